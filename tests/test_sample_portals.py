"""The sample portals over HTTP: every family's pages, endpoints and quirks, and the ground truth."""

from __future__ import annotations

import csv
import gzip
import http.client
import io
import json
import posixpath
import re
import shutil
import time
import zipfile
from email.utils import formatdate
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import lxml.html
import pytest

from nianbao.sample_portals.cells import SINGLE_REPORT_RULES, failing_rules
from nianbao.sample_portals.corpus import build_corpus
from nianbao.sample_portals.families import hanweb, trs
from nianbao.sample_portals.server import SamplePortals
from nianbao.sample_portals.truth import expected_documents

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def fetch(url: str, method: str = "GET", body: bytes | None = None, headers: dict | None = None):
    """(status, header list, raw body bytes) exactly as sent: no decompression, no redirects."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    hdrs = dict(headers or {})
    if body is not None:
        hdrs.setdefault("Content-Type", "application/x-www-form-urlencoded")
    conn.request(method, target, body=body, headers=hdrs)
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, resp.getheaders(), data


def header(headers: list[tuple[str, str]], name: str) -> str | None:
    return next((v for k, v in headers if k.lower() == name.lower()), None)


def links(html: bytes | str, base: str, encoding: str = "utf-8") -> dict[str, str]:
    """Link text -> absolute URL of every <a> of a page."""
    doc = lxml.html.document_fromstring(html.decode(encoding) if isinstance(html, bytes) else html)
    return {a.text_content().strip(): urljoin(base, a.get("href")) for a in doc.iter("a") if a.get("href")}


def sniff(data: bytes) -> str:
    """Document type from its first bytes (what the truth's format must agree with)."""
    if data.startswith(b"%PDF"):
        return "pdf"
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        return "doc"
    if data.startswith(b"PK"):
        names = zipfile.ZipFile(io.BytesIO(data)).namelist()
        if "word/document.xml" in names:
            return "docx"
        if "OFD.xml" in names:
            return "ofd"
    return "html"


# ---------------------------------------------------------------- the corpus and its truth


def test_truth_matches_the_corpus_and_its_rules(sample_truth: list[dict]) -> None:
    corpus = {r["id"]: r for r in build_corpus()}
    assert {t["id"] for t in sample_truth} == set(corpus), "truth/ is stale: rebuild the sample portals"
    years = {t["year"] for t in sample_truth}
    assert min(years) == 2008 and max(years) == 2024
    assert {t["format_version"] for t in sample_truth} == {"pre2019", "2019", "2021"}
    broken = set()
    for t in sample_truth:
        assert t["cells"] == corpus[t["id"]]["cells"], t["id"]
        if t["format_version"] == "pre2019":
            assert t["cells"] and all(k.startswith("p08.") for k in t["cells"])  # prose figures only
            continue
        single = failing_rules(t["cells"], t["format_version"])
        assert single == [r for r in t["failing_rules"] if r in SINGLE_REPORT_RULES], t["id"]
        broken.update(t["failing_rules"])
    assert set(SINGLE_REPORT_RULES) | {"t3.carry_link", "format.year"} <= broken
    seed_2023 = next(t for t in sample_truth if t["id"] == "trs-hrbwjw-2023")
    assert seed_2023["cells"]["t2.licensing.decisions"] == 17426
    assert seed_2023["cells"]["t4.review.total"] is None and seed_2023["failing_rules"] == ["t4.group_total"]


def test_carry_over_links_consecutive_years_except_the_planned_break(sample_truth: list[dict]) -> None:
    by_key = {(t["agency"], t["year"], t["variant"]): t for t in sample_truth}
    linked = 0
    for t in sample_truth:
        prev = by_key.get((t["agency"], t["year"] - 1, "corrected")) or by_key.get((t["agency"], t["year"] - 1, None))
        if not t["cells"] or not prev or not prev["cells"] or t["variant"] or "pre2019" in (
                t["format_version"], prev["format_version"]):
            continue
        holds = t["cells"]["t3.carried_over.total"] == prev["cells"]["t3.carried_forward.total"]
        assert holds != ("t3.carry_link" in t["failing_rules"]), t["id"]
        linked += holds
    assert linked >= 10


def test_corrected_reissue_differs_and_passes(sample_truth: list[dict]) -> None:
    original = next(t for t in sample_truth if t["id"] == "trs-hrbwjw-2021")
    corrected = next(t for t in sample_truth if t["id"] == "trs-hrbwjw-2021-corrected")
    assert "更正版" in corrected["title"] and corrected["failing_rules"] == []
    assert original["failing_rules"] == ["t3.balance"]
    changed = {k for k in original["cells"] if original["cells"][k] != corrected["cells"][k]}
    assert changed == {"t3.carried_forward.natural_person", "t3.carried_forward.total"}


def test_registry_lists_every_portal(sample_portals: SamplePortals) -> None:
    rows = list(csv.DictReader(sample_portals.registry.open(encoding="utf-8")))
    ids = [r["id"] for r in rows]
    assert ids[:5] == ["sample-trs", "sample-hanweb", "sample-jsapp", "sample-gbk", "sample-blocked"]
    assert {"sample-gkmlpt", "sample-trssearch", "sample-jspager"} <= set(ids)
    assert {"sample-robotsnav", "sample-linkedjs", "sample-emptylist", "sample-nocolumn"} <= set(ids)
    assert all(r["allow_private"] == "true" and r["url"].startswith("http://127.0.0.1:") for r in rows)
    assert {r["id"]: r["render"] for r in rows}["sample-jsapp"] == "js"
    assert set(rows[0]) == {"id", "agency", "url", "region", "level", "render", "allow_private", "notes"}


# ---------------------------------------------------------------- discovery and list pages


@pytest.mark.parametrize(
    ("family", "home", "encoding"),
    [("trs", "/index.html", "utf-8"), ("hanweb", "/index.html", "utf-8"), ("jsapp", "/index.html", "utf-8"),
     ("gbk", "/index.htm", "gbk")],
)
def test_annual_report_column_is_found_by_link_text(sample_portals, family, home, encoding) -> None:
    url = sample_portals.url(family, home)
    status, _, body = fetch(url)
    assert status == 200
    gk = links(body, url, encoding)["政府信息公开"]
    status, _, body = fetch(gk)
    assert status == 200
    column = links(body, gk, encoding)["政府信息公开年报"]
    assert fetch(column)[0] == 200
    assert column == sample_portals.url(family, _manifest(family)["column"])


def test_trs_pages_exist_only_in_create_page_html(sample_portals) -> None:
    manifest_entries = trs.Dynamic(_manifest("trs"), 0).entries
    seen, pages = [], None
    page = 0
    while True:
        name = "index.html" if page == 0 else f"index_{page}.html"
        status, headers, raw = fetch(sample_portals.url("trs", trs.COLUMN + name))
        if status == 404:
            break
        html = raw.decode("utf-8")
        call = re.search(r'createPageHTML\((\d+), (\d+), "index", "html"\)', html)
        assert call, name
        pages = pages or int(call.group(1))
        assert (int(call.group(1)), int(call.group(2))) == (pages, page)
        assert "index_1.html" not in html.replace(call.group(0), "")
        seen += [a.get("href") for a in lxml.html.fromstring(html).cssselect("ul.list a")]
        page += 1
    assert page == pages >= 3
    assert len(seen) == len(manifest_entries)
    assert all(h.startswith("./") and re.match(r"^\./(preview/|\d{6}/)t\d{8}_\d+\.html$", h) for h in seen)


def test_hanweb_records_embedded_then_from_the_data_endpoint(sample_portals) -> None:
    status, headers, raw = fetch(sample_portals.url("hanweb", hanweb.COLUMN))
    html = raw.decode("utf-8")
    embedded = re.findall(r"<record><!\[CDATA\[\s*<li><a href=\"([^\"]+)\"", html)
    total = int(re.search(r"totalRecord: (\d+)", html).group(1))
    assert len(embedded) == hanweb.PER_PAGE * hanweb.GROUP_SIZE < total
    form = f"col=1&appid=1&webid=1&path=/&columnid={hanweb.COLUMN_ID}&unitid={hanweb.UNIT_ID}&permissiontype=0"
    got = []
    for start in range(1, total + 1, 6):
        url = sample_portals.url("hanweb", f"{hanweb.PROXY}?startrecord={start}&endrecord={start + 5}&perpage=3")
        status, headers, raw = fetch(url, "POST", form.encode())
        assert status == 200 and header(headers, "Transfer-Encoding") == "chunked"
        assert header(headers, "Content-Length") is None
        xml = raw.decode("utf-8")
        assert f"<totalrecord>{total}</totalrecord>" in xml
        got += re.findall(r"<record><!\[CDATA\[\s*<li><a href=\"([^\"]+)\"", xml)
    assert len(got) == total and got[: len(embedded)] == embedded
    status, _, raw = fetch(sample_portals.url("hanweb", f"{hanweb.PROXY}?startrecord=16&endrecord=20&perpage=5&{form}"))
    assert status == 200 and raw.decode().count("<record>") == total - 15
    # no column and unit named: the same XML, with no record (as the crawler must not rely on)
    status, _, raw = fetch(sample_portals.url("hanweb", f"{hanweb.PROXY}?startrecord=1&endrecord=5"), "POST", b"col=1")
    assert status == 200 and b"<totalrecord>0</totalrecord>" in raw and b"<record>" not in raw


def test_jsapp_list_only_exists_in_the_api(sample_portals, sample_truth) -> None:
    status, _, raw = fetch(sample_portals.url("jsapp", "/zwgk/zfxxgknb/index.html"))
    assert status == 200 and b"post_" not in raw and b"/api/content/list" in raw
    titles = []
    for page in range(1, 10):
        status, headers, raw = fetch(sample_portals.url("jsapp", f"/api/content/list?channelId=ndbg&pageNo={page}&pageSize=5"))
        assert status == 200 and header(headers, "Content-Type").startswith("application/json")
        data = json.loads(raw)["data"]
        titles += [d["title"] for d in data["list"]]
        if page >= data["pages"]:
            break
    assert len(titles) == data["total"]
    assert {t["title"] for t in sample_truth if t["family"] == "jsapp"} <= set(titles)


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="chromium is not installed")
def test_jsapp_list_appears_after_javascript_runs(sample_portals) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page()
            page.goto(sample_portals.url("jsapp", "/zwgk/zfxxgknb/index.html?page=2"))
            page.wait_for_selector("#news-list[data-loaded=true] a")
            hrefs = page.eval_on_selector_all("#news-list a", "els => els.map(e => e.getAttribute('href'))")
            pager = page.eval_on_selector_all("#pager a", "els => els.map(e => e.getAttribute('href'))")
            page.click("#load-more")
            page.wait_for_function("document.querySelectorAll('#news-list a').length > 5")
        finally:
            browser.close()
    assert len(hrefs) == 5 and all(h.startswith("/zwgk/zfxxgknb/content/post_") for h in hrefs)
    assert pager == ["?page=1", "?page=2", "?page=3"]


def test_gbk_site_is_gbk_declared_gb2312(sample_portals) -> None:
    url = sample_portals.url("gbk", "/zwgk/ndbg/list.htm")
    status, headers, raw = fetch(url)
    assert status == 200 and header(headers, "Content-Type") == "text/html"
    assert b'charset=gb2312' in raw
    with pytest.raises(UnicodeDecodeError):
        raw.decode("gb2312")
    html = raw.decode("gbk")
    assert "王堃" in html and "政府信息公开年报" in html
    hrefs = [a.get("href") for a in lxml.html.fromstring(html).iter("a")]
    assert any(h.startswith("../../news/html/") for h in hrefs)
    nxt = links(raw, url, "gbk")["下一页"]
    assert fetch(nxt)[0] == 200
    detail = urljoin(url, next(h for h in hrefs if h.startswith("../../news/")))
    assert fetch(detail)[0] == 200


# ---------------------------------------------------------------- noise and HTTP behaviour


def test_transient_503_then_200(sample_portals) -> None:
    path = _manifest("hanweb")["flaky"][0]
    sample_portals.reset_faults()
    status, headers, _ = fetch(sample_portals.url("hanweb", path))
    assert status == 503 and header(headers, "Retry-After") == "1"
    assert fetch(sample_portals.url("hanweb", path))[0] == 200


def test_slow_page_takes_its_time(sample_portals) -> None:
    path = _manifest("hanweb")["slow"][0]
    started = time.monotonic()
    assert fetch(sample_portals.url("hanweb", path))[0] == 200
    assert time.monotonic() - started >= sample_portals.slow_seconds * 0.9


def test_redirect_robots_and_dead_link(sample_portals) -> None:
    expected = expected_documents(sample_portals.base_urls)["sample-trs"]
    (redirect,) = expected["redirects"]
    status, headers, _ = fetch(redirect["url"])
    assert status == 301 and header(headers, "Location") == redirect["to"]["url"]
    assert fetch(redirect["to"]["url"])[0] == 200
    status, _, robots = fetch(sample_portals.url("trs", "/robots.txt"))
    disallowed = [line.split(":", 1)[1].strip() for line in robots.decode().splitlines() if line.startswith("Disallow")]
    (draft,) = expected["must_not_fetch"]
    assert any(draft["path"].startswith(d) for d in disallowed)
    assert not any(p["path"].startswith(d) for p in expected["report_pages"] for d in disallowed)
    (dead,) = expected["dead_links"]
    assert fetch(dead["url"])[0] == 404


def test_gzip_is_sent_as_gzip(sample_portals) -> None:
    url = sample_portals.url("trs", trs.COLUMN + "index.html")
    status, headers, raw = fetch(url, headers={"Accept-Encoding": "gzip, deflate"})
    assert status == 200 and header(headers, "Content-Encoding") == "gzip"
    plain = fetch(url)[2]
    assert gzip.decompress(raw) == plain and b"createPageHTML" in plain


def test_conditional_requests_get_304(sample_portals) -> None:
    url = sample_portals.url("trs", "/xxgk/index.html")
    status, headers, _ = fetch(url)
    etag, modified = header(headers, "ETag"), header(headers, "Last-Modified")
    assert status == 200 and etag and modified
    status, headers, body = fetch(url, headers={"If-None-Match": etag})
    assert status == 304 and body == b"" and header(headers, "ETag") == etag
    assert fetch(url, headers={"If-Modified-Since": modified})[0] == 304
    assert fetch(url, headers={"If-Modified-Since": formatdate(0, usegmt=True)})[0] == 200
    assert fetch(url, headers={"If-None-Match": '"other"'})[0] == 200


def test_two_set_cookie_headers(sample_portals) -> None:
    status, headers, _ = fetch(sample_portals.url("hanweb", hanweb.COLUMN))
    cookies = [v for k, v in headers if k.lower() == "set-cookie"]
    assert status == 200 and len(cookies) == 2
    assert cookies[0].startswith("JSESSIONID=") and cookies[1].startswith("SERVERID=")


def test_download_names_the_file_in_gbk_and_rfc5987(sample_portals, sample_truth) -> None:
    report = next(t for t in sample_truth if t["id"] == "hanweb-hywjj-2023")
    (att,) = [u for u in report["urls"] if u["role"] == "attachment"]
    status, headers, data = fetch(sample_portals.url("files", att["path"]))
    assert status == 200 and data.startswith(b"%PDF")
    disposition = header(headers, "Content-Disposition")
    star = re.search(r"filename\*=UTF-8''(\S+)", disposition).group(1)
    assert unquote(star) == f"{report['title']}.pdf"
    raw = re.search(r'filename="([^"]+)"', disposition).group(1).encode("latin-1")
    assert raw.decode("gbk") == f"{report['title']}.pdf"


def test_blocked_portal_answers_412_with_a_challenge(sample_portals) -> None:
    for path in ("/index.html", "/robots.txt"):
        status, headers, body = fetch(sample_portals.url("blocked", path))
        assert status == 412 and b"$_ts" in body and header(headers, "Set-Cookie")
    assert expected_documents()["sample-blocked"]["blocked"] is True


# ---------------------------------------------------------------- every report reachable, as declared


def test_every_report_is_served_in_its_declared_format(sample_portals, sample_truth) -> None:
    sample_portals.reset_faults()
    checked = {"html": 0, "pdf": 0, "pdf-scan": 0, "docx": 0, "doc": 0, "ofd": 0}
    for t in sample_truth:
        for u in t["urls"]:
            if u["role"] == "redirect":
                continue
            status, headers, data = fetch(sample_portals.url(u["host"], u["path"]))
            if status == 503:  # the planted transient failure; a retry gets it
                status, headers, data = fetch(sample_portals.url(u["host"], u["path"]))
            assert status == 200, (t["id"], u)
            kind = sniff(data)
            assert kind == ("pdf" if u["format"] == "pdf-scan" else u["format"]), (t["id"], u)
            if u["role"] == "report_page":
                text = data.decode("gbk" if u["host"] == "gbk" else "utf-8")
                assert t["title"] in text and t["agency"] in text
                assert t["sections"]["problems"] in text and t["sections"]["other"] in text
            if u["role"] == "detail_page":
                own = [a["path"].rsplit("/", 1)[1].encode() for a in t["urls"] if a["role"] == "attachment"]
                assert (sample_portals.base_urls["files"].encode() in data or b"uploadfile" in data
                        or any(name in data for name in own)), (t["id"], u)  # its attachment, on its own host
            if u["role"] in ("report_page", "attachment"):
                checked[u["format"]] += 1
    assert all(checked.values()), checked
    assert checked["pdf-scan"] == 1 and checked["doc"] == 2


def test_expected_documents_cover_every_expected_report(sample_truth) -> None:
    expected = expected_documents()
    for t in sample_truth:
        portal = expected[t["portal_id"]]
        found = [d for d in portal["report_pages"] + portal["attachments"] if d["report_id"] == t["id"]]
        assert bool(found) == t["expected"], t["id"]
    non_reports = [n["title"] for p in expected.values() for n in p["non_reports"]]
    assert any("企业年报" in n for n in non_reports) and any("统计年报" in n for n in non_reports)


# ---------------------------------------------------------------- a very large column


def test_scaled_columns_are_generated_on_the_fly() -> None:
    scale = 20_000
    with SamplePortals(scale=scale, slow_seconds=0) as big:
        total = len(_manifest("trs")["entries"]) + scale
        status, _, raw = fetch(big.url("trs", trs.COLUMN + "index.html"))
        pages = int(re.search(r"createPageHTML\((\d+), 0,", raw.decode()).group(1))
        assert pages == -(-total // trs.PER_PAGE)
        status, _, raw = fetch(big.url("trs", trs.COLUMN + f"index_{pages - 1}.html"))
        assert status == 200 and f"createPageHTML({pages}, {pages - 1}," in raw.decode()
        middle = fetch(big.url("trs", trs.COLUMN + "index_1200.html"))[2].decode()
        href = re.search(r'<li><a href="\./([^"]+)"', middle).group(1)
        assert fetch(big.url("trs", trs.COLUMN + href))[0] == 200
        url = big.url("hanweb", f"{hanweb.PROXY}?startrecord=19990&endrecord=20000&perpage=5&columnid={hanweb.COLUMN_ID}"
                               f"&unitid={hanweb.UNIT_ID}")
        xml = fetch(url)[2].decode()
        assert f"<totalrecord>{len(_manifest('hanweb')['entries']) + scale}</totalrecord>" in xml
        assert xml.count("<record>") == 11
        record = re.search(r'<a href="([^"]+)"[^>]*>([^<]+)</a>', xml)
        status, _, raw = fetch(big.url("hanweb", record.group(1)))
        assert status == 200 and record.group(2) in raw.decode()
        status, _, raw = fetch(big.url("jsapp", "/api/content/list?channelId=ndbg&pageNo=3000&pageSize=5"))
        assert status == 200 and b'"list": [{' in raw
        doc = json.loads(raw)["data"]["list"][0]
        status, _, raw = fetch(big.url("jsapp", doc["url"]))
        assert status == 200 and doc["title"] in raw.decode()
        status, _, raw = fetch(big.url("gbk", "/zwgk/ndbg/list_1500.htm"))
        assert status == 200
        href, title = re.search(r'<A href="([^"]+)" target="_blank">([^<]+)</A>', raw.decode("gbk")).groups()
        filler = posixpath.normpath(posixpath.join("/zwgk/ndbg/", href))
        status, headers, raw = fetch(big.url("gbk", filler))
        assert ("Content-Type", "text/html") in headers
        assert status == 200 and title in raw.decode("gbk")


def _manifest(family: str) -> dict:
    from nianbao.sample_portals.families.common import load_manifest
    from nianbao.sample_portals.server import SITE_DIR

    return load_manifest(SITE_DIR, family)
