"""开普云-style static columns: the container-first createPageHTML call, 1-based pages, list_2.shtml second."""

from __future__ import annotations

from adapter_support import fixture_bytes, html_response

from crawler.adapters import select_adapter
from crawler.adapters.kaipuyun import KaipuyunAdapter, pager

COLUMN = "http://www.example.gov.cn/yl/c104973/list.shtml"


def test_the_container_first_pager_is_read():
    page = html_response(COLUMN, fixture_bytes("kaipuyun", "list.shtml"))
    assert pager(page.text) == {"count": 4, "current": 1, "prefix": "list", "suffix": "shtml", "total": 37}
    assert select_adapter(page).name == "kaipuyun"  # not TRS, which reads the call 0-based


def test_further_pages_are_numbered_from_two():
    page = html_response(COLUMN, fixture_bytes("kaipuyun", "list.shtml"))
    urls = [p.url for p in KaipuyunAdapter().next_pages(page)]
    assert urls == [f"http://www.example.gov.cn/yl/c104973/list_{n}.shtml" for n in (2, 3, 4)]
    later = html_response(COLUMN.replace("list.shtml", "list_3.shtml"),
                          fixture_bytes("kaipuyun", "list.shtml").replace(b"4, 1,'list'", b"4, 3,'list'"))
    assert [p.url.rsplit("/", 1)[1] for p in KaipuyunAdapter().next_pages(later)] == [
        "list.shtml", "list_2.shtml", "list_4.shtml"]


def test_entries_are_the_hex_named_details_with_dates():
    entries = KaipuyunAdapter().entries(html_response(COLUMN, fixture_bytes("kaipuyun", "list.shtml")))
    reports = [e for e in entries if "年度报告" in e.title and "通知" not in e.title]
    assert [(e.url.rsplit("/", 2)[1], e.published) for e in reports] == [("202401", "2024-01-26"), ("202301", "2023-01-30")]
    assert all(len(e.url.rsplit("/", 1)[1]) == len("3f6a1c0e9b2d4e7f8a5b6c7d8e9f0a1b.shtml") for e in reports)


def test_a_first_page_calling_itself_zero_numbers_from_one():
    page = html_response("http://www.example.gov.cn/col/index.html",
                         "<script>createPageHTML('page_div', 3, 0, 'index', 'html', 25);</script>")
    assert [p.url.rsplit("/", 1)[1] for p in KaipuyunAdapter().next_pages(page)] == ["index_1.html", "index_2.html"]
