"""TRS columns past maxStaticIndex: static pages, then the search service, on fixtures shaped like real ones."""

from __future__ import annotations

from adapter_support import fixture_bytes, html_response, json_response

from crawler.adapters import select_adapter
from crawler.adapters.trs_search import TrsSearchAdapter, pager_config

COLUMN = "http://www.example.gov.cn/zwgk/zfxxgknb/index.htm"


def column():
    return html_response(COLUMN, fixture_bytes("trs_search", "column_index.htm"))


def test_the_list_script_is_read():
    config = pager_config(column().text)
    assert config == {
        "max_static": 7, "record_count": 213, "prepage": 10, "service": "/fjdzapp/search",
        "fields": {"channelid": "229105", "sortfield": "-docorderpri,-docreltime", "classsql": "chnlid=40121",
                   "classcol": "publishyear", "classnum": "100", "classsort": "0", "cache": "true"},
    }
    assert select_adapter(column()).name == "trs-search"


def test_static_entries_are_the_page_links():
    entries = TrsSearchAdapter().entries(column())
    assert [e.url for e in entries[:1]] == ["http://www.example.gov.cn/zwgk/zfxxgknb/202401/t20240122_6401234.htm"]
    assert entries[0].published == "2024-01-22"
    assert any(e.title == "榕湾区卫生健康局2022年政府信息公开工作年度报告" for e in entries)


def test_static_pages_then_service_pages():
    pages = TrsSearchAdapter().next_pages(column())
    statics = [p for p in pages if p.method == "GET"]
    service = [p for p in pages if p.method == "POST"]
    # index.htm is this page; index_1.htm … index_7.htm are static (maxStaticIndex 7)
    assert [p.url.rsplit("/", 1)[1] for p in statics] == [f"index_{n}.htm" for n in range(1, 8)]
    # 213 records at 10 a page: pages 9…22 (1-based) come from the service
    assert [p.formdata["page"] for p in service] == [str(n) for n in range(9, 23)]
    first = service[0]
    assert first.url == "http://www.example.gov.cn/fjdzapp/search"
    assert first.formdata == {"channelid": "229105", "sortfield": "-docorderpri,-docreltime",
                              "classsql": "chnlid=40121", "classcol": "publishyear", "classnum": "100",
                              "classsort": "0", "cache": "true", "page": "9", "prepage": "10"}
    assert first.meta == {"trs_service": True}


def test_a_later_static_page_plans_no_service_pages_again():
    later = html_response(COLUMN.replace("index.htm", "index_3.htm"), fixture_bytes("trs_search", "column_index.htm"))
    assert all(p.method == "GET" for p in TrsSearchAdapter().next_pages(later))


def test_service_answers_become_entries():
    answer = json_response("http://www.example.gov.cn/fjdzapp/search", fixture_bytes("trs_search", "search_page9.json"),
                           meta={"trs_service": True}, method="POST")
    assert select_adapter(answer, "trs-search").name == "trs-search"
    entries = TrsSearchAdapter().entries(answer)
    assert [(e.title, e.published) for e in entries] == [
        ("榕湾区卫生健康局2014年政府信息公开工作年度报告", "2015-03-20"),
        ("榕湾区卫生健康局政府信息公开指南", "2015-02-11"),
        ("榕湾区卫生健康局2013年政府信息公开工作年度报告", "2014-03-28"),
    ]
    assert entries[0].url == "http://www.example.gov.cn/zwgk/zfxxgknb/201503/t20150320_4400100.htm"
    assert TrsSearchAdapter().next_pages(answer) == []


def test_a_page_without_the_list_script_is_not_claimed():
    plain = html_response(COLUMN, "<html><body><script>createPageHTML(3, 0, 'index', 'html');</script></body></html>")
    assert select_adapter(plain).name == "trs"
    broken = fixture_bytes("trs_search", "column_index.htm").replace(b"recordCount", b"changedCount")
    assert pager_config(html_response(COLUMN, broken).text) is None


def test_a_channel_without_a_service_address_gets_the_list_scripts_own_service():
    html = (b"<script>require(['list2.trsapi'], function () { var chnlid = 4910; listModel({maxStaticIndex: 2, "
            b"pagebar: {prepage: 10, recordCount: '45'}}); });</script>")
    config = pager_config(html_response(COLUMN, html).text)
    assert config["service"] == "/fjdzapp/search"
    assert config["fields"]["classsql"] == "chnlid=4910" and config["fields"]["channelid"] == "229105"
    pages = TrsSearchAdapter().next_pages(html_response(COLUMN, html))
    assert [p.formdata["page"] for p in pages if p.method == "POST"] == ["4", "5"]


def test_records_out_of_reach_are_reported_not_dropped_silently(caplog):
    html = b"<script>listModel({maxStaticIndex: 1, pagebar: {prepage: 10, recordCount: '45'}});</script>"
    pages = TrsSearchAdapter().next_pages(html_response(COLUMN, html))
    assert [p.url.rsplit("/", 1)[1] for p in pages] == ["index_1.htm"]
    assert "45 records past maxStaticIndex 1" in caplog.text
