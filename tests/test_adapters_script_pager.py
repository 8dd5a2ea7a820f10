"""Lists paged by script calls (goPage forms, location-building functions, ASP.NET postbacks)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from adapter_support import fixture_bytes, html_response

from crawler.adapters import adapter_named, select_adapter
from crawler.adapters.scriptpager import ScriptPagerAdapter, function_source, pager_calls


def test_a_gopage_form_is_posted_with_each_page_number():
    url = "http://www.example.gov.cn/zwgk/list.jsp?columnId=1207"
    page = html_response(url, fixture_bytes("script_pager", "gopage_form.html"))
    assert select_adapter(page).name == "script-pager"
    assert ("goPage", ["2"]) in pager_calls(page.selector)
    pages = ScriptPagerAdapter().next_pages(page)
    # 共 4 页: pages 2, 3, 4, each the form's fields with pageNo set, posted to the form's action
    assert [p.formdata for p in pages] == [
        {"columnId": "1207", "pageNo": str(n), "pageSize": "15"} for n in (2, 3, 4)]
    assert {(p.method, p.url) for p in pages} == {("POST", "http://www.example.gov.cn/zwgk/list.jsp")}
    assert [p.meta["script_page"] for p in pages] == [2, 3, 4]
    titles = [e.title for e in ScriptPagerAdapter().entries(page)]
    assert titles[:2] == ["松岭县人民政府2023年政府信息公开工作年度报告", "松岭县人民政府2022年政府信息公开工作年度报告"]


def test_a_function_that_builds_the_address_is_followed_by_get():
    url = "http://www.example.gov.cn/info/iList.jsp?node_id=GKqlx&cat_id=15971&cur_page=1"
    page = html_response(url, fixture_bytes("script_pager", "gopage_location.html"))
    assert function_source(page.text, "gotoPage")[0] == "n"
    pages = ScriptPagerAdapter().next_pages(page)
    assert [p.method for p in pages] == ["GET", "GET"]
    assert [parse_qs(urlsplit(p.url).query)["cur_page"] for p in pages] == [["2"], ["3"]]
    assert all(urlsplit(p.url).path == "/info/iList.jsp" for p in pages)


def test_an_aspnet_pager_posts_the_next_page_with_its_view_state():
    url = "http://www.example.gov.cn/xxgk/NewsList.aspx?ClassID=36"
    page = html_response(url, fixture_bytes("script_pager", "aspnetpager_postback.html"))
    (nxt,) = ScriptPagerAdapter().next_pages(page)
    assert nxt.method == "POST" and nxt.url == url
    assert nxt.formdata == {
        "__EVENTTARGET": "AspNetPager1", "__EVENTARGUMENT": "2",
        "__VIEWSTATE": "/wEPDwUKLTM4MzQ2MjQ5OWRk0v2Pq1fAkE3x", "__VIEWSTATEGENERATOR": "7A1C0B2E",
        "__EVENTVALIDATION": "/wEWBQKf1bTaDwLv",
    }  # the search button is not pressed
    # the second page (reached by that post) asks for the third only: one page at a time, no loop back
    second = html_response(url, fixture_bytes("script_pager", "aspnetpager_postback.html"), meta={"script_page": 2})
    assert [p.formdata["__EVENTARGUMENT"] for p in ScriptPagerAdapter().next_pages(second)] == ["3"]
    third = html_response(url, fixture_bytes("script_pager", "aspnetpager_postback.html"), meta={"script_page": 3})
    assert ScriptPagerAdapter().next_pages(third) == []


def test_javascript_links_without_a_pager_function_are_not_a_pager():
    page = html_response("http://www.example.gov.cn/", '<a href="javascript:void(0)">1</a>'
                         '<a href="javascript:openWin(2)">2</a>')
    assert ScriptPagerAdapter().next_pages(page) == []
    assert select_adapter(page).name != "script-pager"


def test_the_registry_hint_aspnet_names_this_adapter():
    assert adapter_named("aspnet").name == "script-pager"
    assert adapter_named("kaipuyun").name == "kaipuyun" and adapter_named("gkmlpt").name == "gkmlpt"
    assert adapter_named("no-such-family") is None
