"""The gkmlpt adapter on fixtures shaped like real 政府信息公开目录平台 pages and API answers."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

from adapter_support import fixture_bytes, html_response, json_response
from scrapy import Request
from scrapy.http import HtmlResponse

from crawler.adapters import select_adapter
from crawler.adapters.base import link_title
from crawler.adapters.gkmlpt import GkmlptAdapter, api_url, article_date, report_columns, site_config
from crawler.registry import Portal
from spiders.portals import PortalsSpider

SHELL = "http://www.example.gov.cn/qhwjj/gkmlpt/index"
API = "http://www.example.gov.cn/qhwjj/gkmlpt/api/all/31004?page=1&sid=755099"


def test_the_shell_is_recognised_by_its_config_and_paths():
    shell = html_response(SHELL, fixture_bytes("gkmlpt", "shell_index.html"))
    assert select_adapter(shell).name == "gkmlpt"  # not the JavaScript fallback its scripts would suggest
    config = site_config(shell.text)
    assert config["sid"] == "755099"
    assert [n["id"] for n in config["tree"]] == [31001, 31002, 31003, 31004, 31005]
    # the shell served under a department path, not at /gkmlpt/, still belongs to the platform
    plain = html_response("http://www.example.gov.cn/other/index.html", "<html><body>政府信息公开</body></html>")
    assert select_adapter(plain).name != "gkmlpt"


def test_the_report_catalogue_comes_from_the_tree_not_from_rendering():
    shell = html_response(SHELL, fixture_bytes("gkmlpt", "shell_index.html"))
    # 政府信息公开年报 is chosen; 企业年报公示 (nested) and nodes that jump elsewhere are not
    assert report_columns(shell, site_config(shell.text)) == [31004]
    pages = GkmlptAdapter().column_pages(shell)
    assert [p.url for p in pages] == [API]
    assert pages[0].meta["gkmlpt"] == {"sid": "755099", "column": 31004, "page": 1}
    assert GkmlptAdapter().entries(shell) == []  # the shell itself lists nothing


def test_an_annualreport_address_names_its_catalogue():
    url = "http://whly.example.gov.cn/gkmlpt/annualreport#2629"
    shell = html_response(url, fixture_bytes("gkmlpt", "shell_annualreport.html"))
    config = site_config(shell.text)
    assert report_columns(shell, config) == [2629]
    assert api_url(url, config, 2629, 1) == "http://whly.example.gov.cn/gkmlpt/api/all/2629?page=1&sid=175"
    # as downloaded: the response's address has lost the fragment, its request has not
    downloaded = HtmlResponse(url.split("#")[0], body=fixture_bytes("gkmlpt", "shell_annualreport.html"),
                              encoding="utf-8", request=Request(url))
    assert report_columns(downloaded, config) == [2629]


def test_api_articles_become_entries_with_dates():
    page = json_response(API, fixture_bytes("gkmlpt", "api_all_page1.json"),
                         meta={"gkmlpt": {"sid": "755099", "column": 31004, "page": 1}})
    assert select_adapter(page).name == "gkmlpt"
    entries = GkmlptAdapter().entries(page)
    assert len(entries) == 10
    first = entries[0]
    assert first.title == "青禾区卫生健康局2023年政府信息公开工作年度报告"
    assert first.url == "http://www.example.gov.cn/qhwjj/gkmlpt/content/3/3255/post_3255400.html"
    assert first.published == "2024-01-18"
    assert all("/gkmlpt/content/" in e.url and e.url.endswith(".html") for e in entries)


def test_every_api_page_is_planned_from_post_count():
    page = json_response(API, fixture_bytes("gkmlpt", "api_all_page1.json"),
                         meta={"gkmlpt": {"sid": "755099", "column": 31004, "page": 1}})
    pages = GkmlptAdapter().next_pages(page)
    # post_count 23 at 10 a page: pages 2 and 3, same column and site id
    assert [parse_qs(urlsplit(p.url).query)["page"] for p in pages] == [["2"], ["3"]]
    assert all(urlsplit(p.url).path == "/qhwjj/gkmlpt/api/all/31004" for p in pages)
    assert all(parse_qs(urlsplit(p.url).query)["sid"] == ["755099"] for p in pages)
    last = json_response(pages[-1].url, fixture_bytes("gkmlpt", "api_all_page3.json"), meta=pages[-1].meta)
    assert GkmlptAdapter().next_pages(last) == []  # planned once, from the first page


def test_a_relative_url_and_a_bare_timestamp_are_read():
    url = "http://www.example.gov.cn/qhwjj/gkmlpt/api/all/31004?page=3&sid=755099"
    page = json_response(url, fixture_bytes("gkmlpt", "api_all_page3.json"))
    (entry,) = GkmlptAdapter().entries(page)
    assert entry.url == "http://www.example.gov.cn/qhwjj/gkmlpt/content/1/1788/post_1788001.html"
    assert entry.published == "2010-04-01"  # 1270087200 is 2010-04-01 10:00 in China time
    assert article_date({"created_at": "2023-01-20 10:30:00", "date": 0}) == "2023-01-20"


def test_an_answer_that_is_not_json_yields_nothing():
    page = json_response(API, b"<html><body>404</body></html>")
    assert GkmlptAdapter().entries(page) == [] and GkmlptAdapter().next_pages(page) == []
    oversized = json_response(API, json.dumps({"articles": [{"title": "x" * 100, "url": "/a"}] * 90_000}))
    assert GkmlptAdapter().entries(oversized) == []  # larger than any list page: not read


def test_the_detail_page_labels_and_its_attachment_named_only_in_alt():
    url = "http://www.example.gov.cn/qhwjj/gkmlpt/content/3/3255/post_3255414.html"
    page = html_response(url, fixture_bytes("gkmlpt", "content_post.html"))
    labels = PortalsSpider._labels(page)
    assert labels["index_no"] == "11440600MB2C00000X/2023-00103"
    assert labels["publisher"] == "青禾区卫生健康局"
    assert labels["published"] in ("2023-01-19", "2023-01-20")  # 成文日期 or 发布日期, both printed
    portal = Portal(id="qh", agency="青禾区卫生健康局", url="http://www.example.gov.cn/", line=2)
    links = PortalsSpider()._attachment_links(page, portal)
    assert links == [("http://www.example.gov.cn/qhwjj/attachment/0/306/306703/3255414.pdf",
                      "青禾区卫生健康局2022年政府信息公开工作年度报告.pdf")]
    anchor = page.xpath("//a[contains(@class, 'nfw-cms-attachment')]")[0]
    assert link_title(anchor) == "青禾区卫生健康局2022年政府信息公开工作年度报告.pdf"  # not 点击下载


def test_a_shell_without_a_report_catalogue_says_so(caplog):
    body = fixture_bytes("gkmlpt", "shell_index.html").replace("政府信息公开年报".encode(), "工作动态".encode())
    shell = html_response(SHELL, body)
    assert GkmlptAdapter().column_pages(shell) == []
    assert "has no 年报 catalogue" in caplog.text and "(9 nodes)" in caplog.text


def test_a_report_node_that_jumps_to_the_annualreport_route_counts():
    text = fixture_bytes("gkmlpt", "shell_index.html").decode("utf-8")
    jumping = text.replace('"name": "政府信息公开年报", "parent": 0,',
                           '"name": "政府信息公开年报", "jump_url": "/qhwjj/gkmlpt/annualreport", "parent": 0,')
    assert jumping != text
    shell = html_response(SHELL, jumping)
    assert report_columns(shell, site_config(shell.text)) == [31004]
