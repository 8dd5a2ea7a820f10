"""TRS WCM and Hanweb (大汉) columns as real portals lay them out (fixtures in tests/fixtures/families/)."""

from __future__ import annotations

from adapter_support import fixture_bytes, html_response
from scrapy import Request
from scrapy.http import XmlResponse

from crawler.adapters import select_adapter
from crawler.adapters.hanweb import HanwebAdapter
from crawler.adapters.trs import TrsAdapter, pager_args

TRS_COLUMN = "http://www.example.gov.cn/zwgk/xxgknb/index.html"
HANWEB_COLUMN = "http://tjj.example.gov.cn/col/col70231/index.html"
PROXY = "http://tjj.example.gov.cn/module/web/jpage/dataproxy.jsp?page=1&webid=41&columnid=70231&unitid=512345"


def test_trs_column_with_inline_pager_function_is_read():
    page = html_response(TRS_COLUMN, fixture_bytes("trs", "index.html"))
    assert select_adapter(page).name == "trs"
    # the page defines createPageHTML(_nPageCount, …) before calling it: only the call counts
    assert pager_args(page.text) == (4, "index", "html")


def test_trs_items_are_the_dated_t_files():
    entries = TrsAdapter().entries(html_response(TRS_COLUMN, fixture_bytes("trs", "index.html")))
    reports = [e for e in entries if "/xxgknb/2" in e.url]
    assert [(e.url.rsplit("/", 2)[1:], e.published) for e in reports] == [
        (["202401", "t20240125_880123.html"], "2024-01-25"),
        (["202401", "t20240118_879904.html"], "2024-01-18"),
        (["202301", "t20230130_771456.html"], "2023-01-30"),
    ]
    # a truncated link text gives way to the full title attribute
    assert reports[1].title == "示例县人民政府2023年政府信息公开工作年度报告"


def test_trs_pages_are_index_then_index_n():
    page = html_response(TRS_COLUMN, fixture_bytes("trs", "index.html"))
    assert [p.url for p in TrsAdapter().next_pages(page)] == [
        "http://www.example.gov.cn/zwgk/xxgknb/index.html",
        "http://www.example.gov.cn/zwgk/xxgknb/index_1.html",
        "http://www.example.gov.cn/zwgk/xxgknb/index_2.html",
        "http://www.example.gov.cn/zwgk/xxgknb/index_3.html",
    ]


def test_hanweb_column_records_come_out_of_the_datastore():
    page = html_response(HANWEB_COLUMN, fixture_bytes("hanweb", "col_index.html"))
    assert select_adapter(page).name == "hanweb"
    reports = [e for e in HanwebAdapter().entries(page) if "/art/" in e.url]
    assert [(e.url, e.title, e.published) for e in reports] == [
        ("http://tjj.example.gov.cn/art/2024/1/22/art_70231_3304417.html",
         "示例市统计局2023年政府信息公开工作年度报告", "2024-01-22"),
        ("http://tjj.example.gov.cn/art/2023/1/28/art_70231_3011520.html",
         "示例市统计局2022年政府信息公开工作年度报告", "2023-01-28"),
    ]
    # the nextgroup link is the pager's endpoint, not an item
    assert not any("/module/" in e.url for e in HanwebAdapter().entries(page))


def test_hanweb_asks_the_nextgroup_endpoint_for_the_records_after_the_embedded_ones():
    page = html_response(HANWEB_COLUMN, fixture_bytes("hanweb", "col_index.html"))
    (request,) = HanwebAdapter().next_pages(page)
    assert request.url == PROXY + "&startrecord=3&endrecord=47&perpage=15"
    assert request.method == "POST"
    assert request.meta["hanweb_config"]["url"] == PROXY


def test_hanweb_window_answer_yields_records_and_ends_when_short():
    page = html_response(HANWEB_COLUMN, fixture_bytes("hanweb", "col_index.html"))
    (request,) = HanwebAdapter().next_pages(page)
    answer = XmlResponse(request.url, body=fixture_bytes("hanweb", "dataproxy_window.xml"), encoding="utf-8",
                         request=Request(request.url, method="POST", meta=request.meta))
    adapter = select_adapter(answer, "hanweb")
    assert [(e.url.rsplit("/", 1)[1], e.published) for e in adapter.entries(answer)] == [
        ("art_70231_2718803.html", "2022-01-26"), ("art_70231_2410012.html", "2021-01-29")]
    assert adapter.next_pages(answer) == []  # two records, fewer than a 45-record window: the last one


def test_hanweb_full_window_asks_for_the_next():
    page = html_response(HANWEB_COLUMN, fixture_bytes("hanweb", "col_index.html"))
    (request,) = HanwebAdapter().next_pages(page)
    record = fixture_bytes("hanweb", "dataproxy_window.xml").decode().split("<record>")[1].split("</record>")[0]
    full = "<datastore><recordset>" + f"<record>{record}</record>" * 45 + "</recordset></datastore>"
    answer = XmlResponse(request.url, body=full.encode(), encoding="utf-8",
                         request=Request(request.url, method="POST", meta=request.meta))
    (following,) = HanwebAdapter().next_pages(answer)
    assert following.url == PROXY + "&startrecord=48&endrecord=92&perpage=15"


# Observed on Chongqing TRS lists (…/zwgk_213/gsgg/index.html): the pager is called createPage, not
# createPageHTML, with the same arguments; and on a 樟树市 column the rows print only 09-29, the year
# standing in the document's name (./201709/t20170929_N.html). Markup and titles here are made up.
CREATEPAGE_COLUMN = """<html><body><div class="list"><ul>
<li><a href="./202201/t20220128_10311542.html" title="示例区卫生健康委2021年政府信息公开工作年度报告">示例区卫生健康委2021年…</a>
<span class="STYLE12">01-28</span></li>
<li><a href="./202101/t20210129_8812345.html">示例区卫生健康委2020年政府信息公开工作年度报告</a><span>01-29</span></li>
</ul></div>
<div class="page"><script type="text/javascript">createPage(34, 0, "index", "html");</script></div>
</body></html>"""


def test_trs_pager_named_createpage_and_dates_from_document_names():
    page = html_response("http://jjxxw.example.gov.cn/zwgk_213/gsgg/index.html", CREATEPAGE_COLUMN.encode())
    assert select_adapter(page).name == "trs"
    assert pager_args(page.text) == (34, "index", "html")
    pages = [p.url for p in TrsAdapter().next_pages(page)]
    assert pages[1] == "http://jjxxw.example.gov.cn/zwgk_213/gsgg/index_1.html" and pages[-1].endswith("index_33.html")
    entries = TrsAdapter().entries(page)
    assert [(e.title[:13], e.published) for e in entries] == [
        ("示例区卫生健康委2021年", "2022-01-28"), ("示例区卫生健康委2020年", "2021-01-29")]


def test_a_page_merely_mentioning_createpage_is_not_trs():
    page = html_response("http://www.example.gov.cn/a.html",
                         b"<html><body><script>function createPage(el) { return el; }</script></body></html>")
    assert select_adapter(page).name != "trs"
