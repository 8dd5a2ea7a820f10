"""The Hanweb pager's data endpoint is asked with the form every real client sends.

Real clients of ``dataproxy.jsp`` (see tests/fixtures/README.md) POST ``col=1, appid=1, webid, path=/,
columnid, sourceContentType=1, unitid, webname, permissiontype=0``; a page that prints only a
``<nextgroup>`` link still gets that whole form, the ids taken from what the page prints.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from adapter_support import fixture_bytes, html_response
from test_adapters_sample_families import fetch

from crawler.adapters.base import PageRequest
from crawler.adapters.hanweb import HanwebAdapter, records
from crawler.registry import Portal
from nianbao.sample_portals.families import hanweb as sample_hanweb
from spiders.portals import PortalsSpider

COLUMN = "http://tjj.example.gov.cn/col/col70231/index.html"
FULL_FORM = {"col": "1", "appid": "1", "webid": "41", "path": "/", "columnid": "70231", "sourceContentType": "1",
             "unitid": "512345", "webname": "示例市统计局", "permissiontype": "0"}


def _posted_form(page: PageRequest) -> dict[str, str]:
    """The body of the request the spider sends for `page`, decoded."""
    spider = PortalsSpider()
    portal = Portal(id="tjj", agency="示例市统计局", url=COLUMN)
    request = spider._page_request(page, portal, COLUMN, "hanweb")
    assert request.method == "POST"
    assert request.headers[b"Content-Type"] == b"application/x-www-form-urlencoded"
    return {k: v[0] for k, v in parse_qs(request.body.decode("utf-8"), keep_blank_values=True).items()}


def test_nextgroup_link_alone_gets_the_whole_form():
    page = html_response(COLUMN, fixture_bytes("hanweb", "col_index.html"))
    (window,) = HanwebAdapter().next_pages(page)
    assert _posted_form(window) == FULL_FORM


def test_ids_missing_from_the_link_come_from_script_path_and_container():
    text = fixture_bytes("hanweb", "col_index.html").decode("utf-8")
    # the link names nothing; the page's own script prints the site id, the path and container the rest
    text = text.replace("dataproxy.jsp?page=1&webid=41&columnid=70231&unitid=512345", "dataproxy.jsp?page=1")
    text = text.replace("</body>", "<script>var webid = '41';</script></body>")
    (window,) = HanwebAdapter().next_pages(html_response(COLUMN, text))
    assert _posted_form(window) == FULL_FORM
    assert urlsplit(window.url).query == "page=1&startrecord=3&endrecord=47&perpage=15"


def test_a_declared_ajaxparam_block_wins_over_the_defaults():
    text = fixture_bytes("hanweb", "col_index.html").decode("utf-8").replace("</body>", """<script>
$('#512345').jpage({proxyUrl: '/module/web/jpage/dataproxy.jsp', perPage: 15,
  ajaxParam: {col: 1, appid: 1, webid: 41, path: '/', columnid: 70231, sourceContentType: 3, unitid: 512345,
  webname: '示例市统计局', permissiontype: 0}});</script></body>""")
    (window,) = HanwebAdapter().next_pages(html_response(COLUMN, text))
    assert _posted_form(window) == {**FULL_FORM, "sourceContentType": "3"}


def test_the_sample_portal_answers_only_a_request_naming_its_column_and_unit(sample_portals):
    url = sample_portals.url("hanweb", sample_hanweb.COLUMN)
    status, _, body = fetch(PageRequest(url))
    text = body.decode("utf-8")
    # as a page that prints only the bare pager link: no ajaxParam block, no ids in the link
    text = re.sub(r"ajaxParam: \{[^}]*\}", "", text)
    text = re.sub(r"(dataproxy\.jsp\?page=1)&[^\"]*", r"\1", text)
    assert "columnid=" not in text and "ajaxParam" not in text
    page = html_response(url, text)
    embedded = len(records(text))
    windows = HanwebAdapter().next_pages(page)
    got = []
    for window in windows:
        status, _, answer = fetch(window)
        assert status == 200
        got += records(answer.decode("utf-8"))
    total = int(re.search(r"totalRecord: (\d+)", text).group(1))
    assert embedded < total and len(got) == total - embedded
    # the same window without the ids the adapter filled in: the server has no record for it
    bare = PageRequest(windows[0].url, method="POST", formdata={"col": "1", "appid": "1", "webid": "1"})
    status, _, answer = fetch(bare)
    assert status == 200 and records(answer.decode("utf-8")) == []
