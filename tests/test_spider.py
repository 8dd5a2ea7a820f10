"""The portals spider against the sample portals: recall, precision, years, metadata, stats, safety.

One crawl of every sample portal (a `scrapy crawl portals` subprocess, so the Twisted reactor stays
out of the test process) is shared by the tests of this module.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from scrapy import Request
from scrapy.exceptions import IgnoreRequest
from scrapy.http import HtmlResponse, XmlResponse
from scrapy.utils.test import get_crawler

from crawler.adapters import select_adapter
from crawler.adapters.hanweb import endpoint_config, records, window_requests
from crawler.adapters.trs import pager_args
from crawler.charset import filename_from_disposition, repair_encoding
from crawler.middlewares import PrivateAddressMiddleware, is_challenge
from crawler.registry import Portal
from crawler.scope import same_government, site_of
from nianbao.sample_portals.truth import expected_documents, load_truth
from spiders.portals import PortalsSpider

ROOT = Path(__file__).resolve().parent.parent
FAST = {
    "DOWNLOAD_DELAY": "0",
    "AUTOTHROTTLE_ENABLED": "False",
    "CONCURRENT_REQUESTS": "64",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "16",
    "RETRY_TIMES": "2",
    "LOG_LEVEL": "INFO",
}


def crawl_command(registry: Path, data_dir: Path, *extra: str, settings: dict | None = None) -> list[str]:
    """The `scrapy crawl portals` command line for a test crawl (fast settings, log in DATA_DIR)."""
    merged = {**FAST, "DATA_DIR": str(data_dir), "LOG_FILE": str(data_dir / "crawl.log"), **(settings or {})}
    command = [sys.executable, "-m", "scrapy", "crawl", "portals", "-a", f"portals={registry}", *extra]
    for key, value in merged.items():
        command += ["-s", f"{key}={value}"]
    return command


def documents(data_dir: Path) -> list[dict]:
    """Every (document, URL) pair the catalog holds."""
    db = sqlite3.connect(data_dir / "catalog.db")
    db.row_factory = sqlite3.Row
    rows = db.execute(
        "select d.*, u.url as seen_url from documents d join document_urls u on u.document_id = d.id"
    ).fetchall()
    db.close()
    return [dict(r) for r in rows]


@pytest.fixture(scope="module")
def crawl(sample_portals, tmp_path_factory):
    """One crawl of all sample portals: its data directory, documents, closing stats and fetched URLs."""
    data_dir = tmp_path_factory.mktemp("crawl")
    # the sample registry plus two rows that must be refused without stopping the others
    registry = data_dir / "registry.csv"
    rows = Path(sample_portals.registry).read_text(encoding="utf-8").rstrip("\n").split("\n")
    bad_line = len(rows) + 1
    rows += ["nourl,某局,,,,,,", f"private,某局,{sample_portals.url('trs', '/index.html')},,,,,"]
    registry.write_text("\n".join(rows) + "\n", encoding="utf-8")
    result = subprocess.run(crawl_command(registry, data_dir), cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    log = (data_dir / "crawl.log").read_text(encoding="utf-8")
    assert result.returncode == 0, result.stderr[-3000:] + log[-3000:]
    db = sqlite3.connect(data_dir / "catalog.db")
    stats_json, status = db.execute("select stats, status from crawls order by id desc limit 1").fetchone()
    fetched = {row[0] for row in db.execute("select url from captures where warc_type in ('response', 'revisit')")}
    db.close()
    return {
        "data_dir": data_dir,
        "documents": documents(data_dir),
        "stats": json.loads(stats_json),
        "status": status,
        "fetched": fetched,
        "log": log,
        "expected": expected_documents(sample_portals.base_urls),
        "registry": registry,
        "bad_line": bad_line,
    }


def _by_portal(docs: list[dict], kinds: tuple[str, ...]) -> dict[str, dict[str, dict]]:
    out: dict[str, dict[str, dict]] = {}
    for doc in docs:
        if doc["kind"] in kinds:
            out.setdefault(doc["portal_id"], {})[doc["seen_url"]] = doc
    return out


def test_every_report_and_nothing_else_with_the_right_year(crawl):
    found = _by_portal(crawl["documents"], ("report_page", "attachment"))
    for portal_id, expected in crawl["expected"].items():
        want = {d["url"]: d["year"] for d in expected["report_pages"] + expected["attachments"]}
        got = {url: doc["year"] for url, doc in found.get(portal_id, {}).items()}
        assert set(got) - set(want) == set(), f"{portal_id}: not reports"          # precision 100 %
        assert set(want) - set(got) == set(), f"{portal_id}: reports missed"       # recall 100 %
        assert got == want, f"{portal_id}: wrong statistical years"
    for family in ("trs", "hanweb", "jsapp", "gbk"):  # every family contributes reports
        assert found.get(f"sample-{family}"), family


def test_pages_that_only_link_an_attachment_are_detail_pages(crawl):
    found = _by_portal(crawl["documents"], ("detail_page",))
    for portal_id, expected in crawl["expected"].items():
        assert set(found.get(portal_id, {})) == {d["url"] for d in expected["detail_pages"]}, portal_id


def test_noise_drafts_and_disallowed_paths_stay_out(crawl):
    urls = {doc["seen_url"] for doc in crawl["documents"]}
    for portal_id, expected in crawl["expected"].items():
        for item in expected["non_reports"] + expected["dead_links"]:
            assert item["url"] not in urls, (portal_id, item["title"])
        for item in expected["must_not_fetch"]:  # robots.txt Disallow
            assert item["url"] not in crawl["fetched"], item["url"]
        for redirect in expected["redirects"]:  # the listed old address leads to the new one
            assert redirect["to"]["url"] in urls


def test_list_and_detail_metadata(crawl):
    truth = {r["id"]: r for r in load_truth()}
    report_of = {}
    for expected in crawl["expected"].values():
        for d in expected["report_pages"] + expected["attachments"] + expected["detail_pages"]:
            report_of[d["url"]] = truth[d["report_id"]]
    checked = 0
    for doc in crawl["documents"]:
        report = report_of.get(doc["seen_url"])
        if report is None:
            continue
        assert doc["title"].startswith(report["title"][:12]), doc["seen_url"]
        if doc["kind"] != "attachment" and "again" not in report["id"]:
            assert doc["published"] and doc["published"][:4] == report["published"][:4], doc["seen_url"]
        if report["family"] in ("trs", "hanweb", "jsapp"):
            assert doc["index_no"] and doc["publisher"], doc["seen_url"]
        checked += 1
    assert checked == len(report_of)  # every report document, detail page included, was checked
    gbk = [d for d in crawl["documents"] if d["portal_id"] == "sample-gbk" and d["kind"] == "report_page"]
    assert gbk and all("鹤岗市" in d["title"] and d["publisher"] == "鹤岗市卫健委" for d in gbk)  # GBK decoded
    names = [d["filename"] for d in crawl["documents"] if d["portal_id"] == "sample-hanweb" and d["kind"] == "attachment"]
    assert names and all(n.startswith("海阳市卫生健康局") for n in names)  # RFC 5987 Content-Disposition


def test_closing_stats_per_portal(crawl):
    assert crawl["status"] == "finished"
    summary = crawl["stats"]["portals/summary"]
    for portal_id, expected in crawl["expected"].items():
        row = summary[portal_id]
        assert set(row) == {"pages", "reports", "attachments", "not_modified", "errors", "blocked"}
        assert row["not_modified"] == 0  # a first crawl has nothing to ask about
        if expected["blocked"]:
            assert row["blocked"] == 1 and row["pages"] == 0 and row["reports"] == 0
            continue
        assert row["blocked"] == 0
        assert row["reports"] == len(expected["report_pages"]) + len(expected["attachments"]), portal_id
        assert row["attachments"] == len(expected["attachments"]), portal_id
        assert row["errors"] == len(expected["dead_links"]), portal_id
        assert row["pages"] > row["reports"]
    assert "per-portal stats" in crawl["log"]
    # the JavaScript list was recognised by its script and rendered in the browser
    assert crawl["stats"]["portals/browser_rendered"] >= 1


def test_bad_registry_rows_are_reported_by_line_and_skipped(crawl):
    log, registry, line = crawl["log"], crawl["registry"], crawl["bad_line"]
    assert f"bad registry row, skipped: {registry}:{line}: row 'nourl': missing url" in log
    assert f"bad registry row, skipped: {registry}:{line + 1}: row 'private':" in log
    assert "private" not in crawl["stats"]["portals/summary"]
    assert crawl["stats"]["registry/bad_rows"] == 2


def test_a_blocked_portal_is_asked_once_and_never_retried(crawl, sample_portals):
    base = sample_portals.base_urls["blocked"]
    assert len([u for u in crawl["fetched"] if u.startswith(base) and not u.endswith("robots.txt")]) == 1
    assert "portal sample-blocked blocked" in crawl["log"]


def _fetch(url: str) -> tuple[bytes, dict]:
    with urllib.request.urlopen(url, timeout=10) as answer:
        return answer.read(), dict(answer.headers)


def test_adapters_are_chosen_by_fingerprint(sample_portals):
    columns = {"trs": "/xxgk/zfxxgknb/index.html", "hanweb": "/col/col1229/index.html",
               "jsapp": "/zwgk/zfxxgknb/index.html", "gbk": "/zwgk/ndbg/list.htm"}
    chosen = {}
    for family, path in columns.items():
        url = sample_portals.url(family, path)
        body, headers = _fetch(url)
        response = HtmlResponse(url, body=body, headers={"Content-Type": headers.get("Content-Type", "text/html")},
                                request=Request(url))
        adapter = select_adapter(response)
        chosen[family] = adapter.name
        if family == "trs":
            pages = [p.url for p in adapter.next_pages(response)]
            assert pages[:3] == [sample_portals.url("trs", f"/xxgk/zfxxgknb/{n}") for n in
                                 ("index.html", "index_1.html", "index_2.html")]
        if family == "hanweb":
            windows = adapter.next_pages(response)
            assert windows and windows[0].method == "POST" and windows[0].formdata["columnid"] == "1229"
            request = urllib.request.Request(windows[0].url, data="&".join(
                f"{k}={v}" for k, v in windows[0].formdata.items() if k != "webname").encode())
            with urllib.request.urlopen(request, timeout=10) as answer:
                xml = answer.read()
            assert records(xml.decode("utf-8"))
            data = XmlResponse(windows[0].url, body=xml, request=Request(windows[0].url, meta={"hanweb_config": {}}))
            assert any("政府信息公开工作年度报告" in e.title for e in adapter.entries(data))
        if family == "jsapp":
            assert adapter.needs_browser(response, adapter.entries(response))
        if family == "gbk":
            assert repair_encoding(response).encoding == "gb18030"
            assert any("鹤岗市" in e.title for e in adapter.entries(response))
    assert chosen == {"trs": "trs", "hanweb": "hanweb", "jsapp": "js", "gbk": "generic"}


def test_trs_pager_call_variants():
    assert pager_args('createPageHTML(7, 0, "index", "html");') == (7, "index", "html")
    assert pager_args('var countPage = 12; createPageHTML(countPage, 0, "index", "shtml");') == (12, "index", "shtml")
    assert pager_args('createPageHTML("page_div", 5, 1, "index", "htm", 20);') == (5, "index", "htm")
    assert pager_args("function createPageHTML(_nPageCount, _nCurrIndex, _sPageName, _sPageExt){") is None


def test_hanweb_endpoint_by_get_with_every_window_planned():
    page = """<script>$('#1').jpage({totalRecord: 40, perPage: 10, proxyUrl: '/module/web/jpage/dataproxy.jsp',
      type: 'GET', ajaxParam: {col: 1, columnid: 77, unitid: '5', webname: '某局'}});</script>"""
    config = endpoint_config(page, "http://www.example.gov.cn/col/col77/index.html")
    assert config["method"] == "GET" and config["total"] == 40 and config["params"]["columnid"] == "77"
    windows = [w.url for w in window_requests(config, 1, config["total"])]
    assert windows[0].startswith("http://www.example.gov.cn/module/web/jpage/dataproxy.jsp?startrecord=1&endrecord=30")
    assert "columnid=77" in windows[0] and "startrecord=31&endrecord=60" in windows[1] and len(windows) == 2


def test_detail_page_labels_in_real_layouts():
    # metadata blocks as two real detail pages print them (a line of labels; a list of labels)
    inline = ("<div>索引号: 00248984X/2024-00227 公开方式: 主动公开</div><div>文号: 公开日期: 2024-01-22</div>"
              "<div>发布单位: 杭州市卫生健康委员会 主题分类: 政务公开</div>")
    listed = "<ul><li>索 引 号:XM02123-0101-2023-00001</li><li>发布机构:湖里区卫生健康局</li></ul><p>时间:2023-01-11 11:18</p>"
    table = "<table><tr><th>索引号：</th><td>1123/2021-1</td><th>发文日期：</th><td>2021-01-16</td></tr></table>"
    read = [PortalsSpider._labels(HtmlResponse("http://x.gov.cn/", body=f"<body>{h}</body>".encode(), encoding="utf-8"))
            for h in (inline, listed, table)]
    assert read[0] == {"index_no": "00248984X/2024-00227", "publisher": "杭州市卫生健康委员会", "published": "2024-01-22"}
    assert read[1] == {"index_no": "XM02123-0101-2023-00001", "publisher": "湖里区卫生健康局", "published": "2023-01-11"}
    assert read[2] == {"index_no": "1123/2021-1", "published": "2021-01-16"}


def test_content_disposition_file_names():
    gbk_raw = "附件：2022年政府信息公开工作年度报告.pdf".encode("gbk")
    assert filename_from_disposition(b'attachment; filename="' + gbk_raw + b'"') == "附件：2022年政府信息公开工作年度报告.pdf"
    rfc5987 = "attachment; filename=\"x.pdf\"; filename*=UTF-8''%E5%B9%B4%E6%8A%A5.pdf"
    assert filename_from_disposition(rfc5987) == "年报.pdf"
    assert filename_from_disposition("attachment; filename*=gbk''%C4%EA%B1%A8.doc") == "年报.doc"
    assert filename_from_disposition("inline; filename=%E5%B9%B4%E6%8A%A5.ofd") == "年报.ofd"
    assert filename_from_disposition("inline") is None


def test_private_addresses_need_allow_private():
    crawler = get_crawler(PortalsSpider)
    crawler.spider = spider = PortalsSpider.from_crawler(crawler)
    spider.portals = {
        "public": Portal(id="public", agency="某局", url="https://www.example.gov.cn/"),
        "sample": Portal(id="sample", agency="样例", url="http://127.0.0.1:8000/", allow_private=True),
    }
    middleware = PrivateAddressMiddleware.from_crawler(crawler)
    for url in ("http://127.0.0.1:8000/a.pdf", "http://10.0.0.8/", "http://localhost/x"):
        with pytest.raises(IgnoreRequest):
            middleware.process_request(Request(url, meta={"portal_id": "public"}))
    assert middleware.process_request(Request("http://127.0.0.1:8000/a.pdf", meta={"portal_id": "sample"})) is None
    assert middleware.process_request(Request("https://files.example.gov.cn/a.pdf", meta={"portal_id": "public"})) is None
    # the crawl's own requests (robots.txt) reach private hosts only where an allowed portal lives
    assert middleware.process_request(Request("http://127.0.0.1:8001/robots.txt")) is None
    with pytest.raises(IgnoreRequest):
        middleware.process_request(Request("http://10.0.0.8/robots.txt"))


def test_scope_of_pages_and_attachments():
    assert site_of("https://wsjkw.harbin.gov.cn/x") == "harbin.gov.cn"
    assert same_government("https://file.harbin.gov.cn/a.pdf", "https://wsjkw.harbin.gov.cn/")
    assert same_government("https://xxgk.hlj.gov.cn/a.pdf", "https://wsjkw.harbin.gov.cn/")
    assert not same_government("https://pan.example.com/a.pdf", "https://wsjkw.harbin.gov.cn/")
    assert same_government("http://127.0.0.1:9001/a.pdf", "http://127.0.0.1:9000/")
    assert site_of("http://127.0.0.1:9001/") != site_of("http://127.0.0.1:9000/")


def test_challenge_pages_are_recognised():
    challenge = HtmlResponse("http://x.gov.cn/", status=412, body=b"<script>var $_ts={};</script>")
    assert is_challenge(challenge, [403, 412, 521])
    js = HtmlResponse("http://x.gov.cn/", status=200,
                      body=b"<script>document.cookie='a=1';location.reload()</script>")
    assert is_challenge(js, [403, 412, 521])
    forbidden_file = HtmlResponse("http://x.gov.cn/a.pdf", status=403, body=b"<h1>403 Forbidden</h1>")
    assert is_challenge(forbidden_file, [403, 412, 521]) is None
    page = HtmlResponse("http://x.gov.cn/", status=200, body="<a href='/'>首页</a>正文".encode())
    assert is_challenge(page, [403, 412, 521]) is None
