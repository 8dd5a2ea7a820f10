"""The new families' adapters walking the sample portals (real HTTP, no Scrapy): every report listed is
reached, through exactly the requests the portals answer, and the portals behave as the real ones do."""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request

import pytest
from adapter_support import html_response, json_response

from crawler import classify
from crawler.adapters import select_adapter
from crawler.adapters.base import PageRequest
from crawler.charset import filename_from_disposition

COLUMNS = {
    "gkmlpt": ("/nhwjj/gkmlpt/index", "gkmlpt"),
    "trssearch": ("/zwgk/zfxxgknb/index.htm", "trs-search"),
    "jspager": ("/zwgk/ndbg/list.jsp?columnId=1207", "script-pager"),
}


def fetch(page: PageRequest) -> tuple[int, dict, bytes]:
    data = urllib.parse.urlencode(page.formdata).encode() if page.method == "POST" else None
    request = urllib.request.Request(page.url, data=data, headers=page.headers, method=page.method)
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def walk(start: str) -> tuple[dict[str, str], list[str], set[str]]:
    """Follow one column through its adapter: {report url: title}, the adapters used, every request made."""
    queue, seen, reports, used = [(PageRequest(start), None)], set(), {}, []
    while queue:
        page, adapter_name = queue.pop(0)
        key = page.url + repr(sorted((page.formdata or {}).items()))
        if key in seen:
            continue
        seen.add(key)
        status, headers, body = fetch(page)
        assert status == 200, (page.url, page.formdata, status)
        make = json_response if "json" in headers.get("Content-Type", "") else html_response
        response = make(page.url, body, meta=page.meta)
        adapter = select_adapter(response, adapter_name)
        used.append(adapter.name)
        for entry in adapter.entries(response):
            if classify.is_annual_report(entry.title):
                reports[entry.url] = entry.title
        follow = adapter.column_pages(response) + adapter.next_pages(response)
        queue += [(p, adapter.name) for p in follow]
        assert len(seen) < 100, "the walk does not end"
    return reports, used, seen


@pytest.mark.parametrize("family", sorted(COLUMNS))
def test_the_adapter_reaches_every_listed_report(sample_portals, sample_truth, family):
    path, name = COLUMNS[family]
    reports, used, _ = walk(sample_portals.url(family, path))
    assert used[0] == name
    want = {sample_portals.url(family, u["path"]): t["title"] for t in sample_truth if t["family"] == family
            for u in t["urls"] if u["role"] in ("report_page", "detail_page")}
    assert reports == want


def test_gkmlpt_items_exist_only_in_the_api(sample_portals):
    _, used, seen = walk(sample_portals.url("gkmlpt", "/nhwjj/gkmlpt/index"))
    assert used[0] == "gkmlpt" and set(used) == {"gkmlpt"}
    api = sorted(u for u in seen if "/gkmlpt/api/all/" in u)
    assert api and all("/api/all/4101?" in u and "sid=757011" in u for u in api)
    status, _, body = fetch(PageRequest(sample_portals.url("gkmlpt", "/nhwjj/gkmlpt/index")))
    assert status == 200 and "年度报告" not in body.decode() and b"/gkmlpt/content/" not in body
    status, _, _ = fetch(PageRequest(sample_portals.url("gkmlpt", "/nhwjj/gkmlpt/api/all/4101?page=1&sid=1")))
    assert status == 400  # the site id is checked, as the platform does


def test_gkmlpt_attachment_is_named_only_in_rfc5987_filename(sample_portals, sample_truth):
    (report,) = [t for t in sample_truth if t["family"] == "gkmlpt" and t["format"] == "pdf"]
    (attachment,) = [u for u in report["urls"] if u["role"] == "attachment"]
    status, headers, body = fetch(PageRequest(sample_portals.url("gkmlpt", attachment["path"])))
    disposition = headers["Content-Disposition"]
    assert status == 200 and body.startswith(b"%PDF")
    assert "filename*=UTF-8''" in disposition and "filename=" not in disposition.replace("filename*=", "")
    assert filename_from_disposition(disposition) == report["title"] + ".pdf"
    assert attachment["path"].rsplit("/", 1)[1][:-4].isdigit()  # the address names the post id, not the report


def test_trs_service_answers_only_the_columns_own_query(sample_portals):
    url = sample_portals.url("trssearch", "/fjdzapp/search")
    good = {"channelid": "229105", "classsql": "chnlid=40121", "page": "3", "prepage": "3"}
    status, headers, body = fetch(PageRequest(url, method="POST", formdata=good))
    assert status == 200 and "json" in headers["Content-Type"] and b"doctitle" in body
    status, _, _ = fetch(PageRequest(url, method="POST", formdata={**good, "classsql": "chnlid=1"}))
    assert status == 400
    # the pages past maxStaticIndex do not exist as files
    status, _, _ = fetch(PageRequest(sample_portals.url("trssearch", "/zwgk/zfxxgknb/index_2.htm")))
    assert status == 404


def test_jspager_pages_exist_only_as_form_posts(sample_portals):
    url = sample_portals.url("jspager", "/zwgk/ndbg/list.jsp")
    form = {"columnId": "1207", "pageNo": "2", "pageSize": "4"}
    _, _, first = fetch(PageRequest(url + "?columnId=1207"))
    _, _, second = fetch(PageRequest(url, method="POST", formdata=form))
    assert "当前第 1 页" in first.decode() and "当前第 2 页" in second.decode()
    assert b"javascript:goPage(3)" in second and b"list.jsp?" not in second.split(b"<form")[1].split(b"</form>")[0]


def test_the_spider_follows_an_annualreport_address_from_the_registry(sample_portals, tmp_path):
    """A registry row that is the platform's 年报 route: the catalogue id only in the fragment, no tree."""
    import json
    import sqlite3
    import subprocess

    from test_spider import ROOT, crawl_command

    registry = tmp_path / "registry.csv"
    url = sample_portals.url("gkmlpt", "/nhwjj/gkmlpt/annualreport#4101")
    registry.write_text("id,agency,url,allow_private\n"
                        f"gd-annual,南海区卫生健康局,{url},true\n", encoding="utf-8")
    data = tmp_path / "data"
    data.mkdir()
    result = subprocess.run(crawl_command(registry, data), cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    db = sqlite3.connect(data / "catalog.db")
    rows = db.execute("select u.url, d.kind, d.year from documents d join document_urls u on u.document_id = d.id "
                      "where d.portal_id = 'gd-annual'").fetchall()
    fetched = {u for (u,) in db.execute("select url from captures where warc_type = 'response'")}
    stats = json.loads(db.execute("select stats from crawls order by id desc limit 1").fetchone()[0])
    db.close()
    expected = expected_documents_for("gkmlpt", sample_portals)
    found = {u: year for u, kind, year in rows if kind in ("report_page", "attachment")}
    assert found == expected
    assert any("/gkmlpt/api/all/4101?page=1&sid=757011" in u for u in fetched)
    assert not any(u.endswith("/nhwjj/gkmlpt/index") for u in fetched)  # the tree was not needed
    assert stats["portals/summary"]["gd-annual"]["errors"] == 0
    assert not stats.get("portals/browser_rendered")  # no browser for a platform shell


def expected_documents_for(family: str, sample_portals) -> dict[str, int]:
    from nianbao.sample_portals.truth import expected_documents

    expected = expected_documents(sample_portals.base_urls)[f"sample-{family}"]
    return {d["url"]: d["year"] for d in expected["report_pages"] + expected["attachments"]}
