"""Lists paged by script calls instead of links: ``<a href="javascript:goPage(3)">3</a>`` (or an
``onclick``), where the page's own function either builds the next address (``location.href =
"list.jsp?cur_page=" + n``) or writes the page number into a form and submits it
(``document.pageForm.pageNo.value = n; document.pageForm.submit()``), and ASP.NET lists paged by
``javascript:__doPostBack('AspNetPager1','3')`` / ``__doPostBack('ctl00$gvList','Page$3')`` (a POST of the
page's form with ``__EVENTTARGET``/``__EVENTARGUMENT`` and its ``__VIEWSTATE``).

The requests are worked out from the page's HTML and inline script, without a browser. Link and form
shapes, and where they were observed: docs/portal-families.md.
"""

from __future__ import annotations

import re
from urllib.parse import urlencode, urljoin

from parsel import Selector
from scrapy.http import Response

from crawler.adapters import ListAdapter, register
from crawler.adapters.base import Entry, PageRequest, link_entries

_CALL = re.compile(r"^\s*(?:javascript:)?\s*([A-Za-z_$][\w$.]*)\s*\(([^()]*)\)\s*;?\s*(?:return\s+false\s*;?)?\s*$", re.I)
_POSTBACK = "__doPostBack"
_PAGE_ARG = re.compile(r"^(?:Page\$)?(\d{1,4})$")
_TOTAL = re.compile(r"共\s*(\d{1,4})\s*页|(?:totalPages?|pageCount|countPage)\s*[=:]\s*['\"]?(\d{1,4})", re.I)
_FORM_NAME = (
    re.compile(r"document\.(?:forms\.)?(\w+)\.submit\s*\("),
    re.compile(r"document\.forms\[\s*['\"](\w+)['\"]\s*\]"),
    re.compile(r"getElementById\(\s*['\"](\w+)['\"]\s*\)\.submit\s*\("),
    re.compile(r"\$\(\s*['\"][#]?(\w+)['\"]\s*\)\.submit\s*\("),
)
_SKIP_INPUT_TYPES = {"submit", "button", "image", "reset", "file"}
_MAX_PAGES = 500


def pager_calls(selector: Selector) -> list[tuple[str, list[str]]]:
    """Every script call a link of the page makes (href ``javascript:…`` or onclick): (function, args)."""
    calls = []
    for anchor in selector.xpath("//a[@href or @onclick]"):
        href = anchor.attrib.get("href", "")
        scripts = [href] if href.lower().lstrip().startswith("javascript:") else []
        for raw in [*scripts, anchor.attrib.get("onclick", "")]:
            match = _CALL.match(raw)
            if match:
                args = [a.strip().strip("'\"") for a in match.group(2).split(",")] if match.group(2).strip() else []
                calls.append((match.group(1), args))
    return calls


def function_source(text: str, name: str) -> tuple[str, str] | None:
    """(first parameter, body) of ``function name(p, …) {…}`` in the page's inline script."""
    match = re.search(rf"function\s+{re.escape(name)}\s*\(([^)]*)\)\s*\{{", text)
    if not match:
        match = re.search(rf"\b{re.escape(name)}\s*=\s*function\s*\(([^)]*)\)\s*\{{", text)
    if not match:
        return None
    depth, i = 1, match.end()
    while i < len(text) and depth:
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        i += 1
    params = [p.strip() for p in match.group(1).split(",") if p.strip()]
    return (params[0] if params else "", text[match.end(): i - 1])


def _page_numbers(calls: list[tuple[str, list[str]]], name: str, position: int) -> set[int]:
    numbers = set()
    for called, args in calls:
        if called == name and len(args) > position:
            arg = _PAGE_ARG.match(args[position])
            if arg:
                numbers.add(int(arg.group(1)))
    return numbers


def _form_fields(form: Selector) -> dict[str, str]:
    fields: dict[str, str] = {}
    for node in form.xpath(".//input[@name] | .//select[@name] | .//textarea[@name]"):
        kind = (node.attrib.get("type") or "text").lower()
        if kind in _SKIP_INPUT_TYPES or (kind in ("checkbox", "radio") and "checked" not in node.attrib):
            continue
        if node.root.tag == "select":
            value = node.xpath("(.//option[@selected] | .//option)[1]/@value").get() or ""
        elif node.root.tag == "textarea":
            value = "".join(node.xpath(".//text()").getall())
        else:
            value = node.attrib.get("value", "")
        fields[node.attrib["name"]] = value
    return fields


def _find_form(selector: Selector, form_name: str | None, field: str | None) -> Selector | None:
    if form_name:
        found = selector.xpath(f"//form[@name='{form_name}' or @id='{form_name}']")
        if found:
            return found[0]
    if field:
        found = selector.xpath(f"//form[.//*[@name='{field}' or @id='{field}']]")
        if found:
            return found[0]
    forms = selector.xpath("//form")
    return forms[0] if len(forms) == 1 else None


def _form_request(response: Response, form: Selector, fields: dict[str, str], page: int) -> PageRequest:
    action = urljoin(response.url, form.attrib.get("action") or response.url)
    method = (form.attrib.get("method") or "GET").upper()
    if method == "POST":
        return PageRequest(action, method="POST", formdata=fields, headers={"Referer": response.url},
                           meta={"script_page": page})
    return PageRequest(f"{action.split('?')[0]}?{urlencode(fields)}", meta={"script_page": page})


def plan(response: Response) -> list[PageRequest]:
    """The requests for the other pages of a script-paged list (empty when the page has no such pager)."""
    selector = response.selector
    calls = pager_calls(selector)
    if not calls:
        return []
    current = int(response.meta.get("script_page") or 1)
    text = response.text
    postbacks = [args for name, args in calls if name == _POSTBACK and len(args) == 2]
    if postbacks:
        return _postback_pages(response, postbacks, current)
    for name in dict.fromkeys(name for name, _ in calls):
        numbers = _page_numbers(calls, name, 0)
        source = function_source(text, name)
        if not numbers or source is None:
            continue
        total = max([*numbers, *(int(g) for m in _TOTAL.finditer(text) for g in m.groups() if g)])
        pages = [n for n in range(1, min(total, _MAX_PAGES) + 1) if n != current]
        requests = _function_pages(response, source, pages)
        if requests:
            return requests
    return []


def _function_pages(response: Response, source: tuple[str, str], pages: list[int]) -> list[PageRequest]:
    param, body = source
    if not param:
        return []
    p = re.escape(param)
    built = re.search(rf"""(['"])([^'"]*)\1\s*\+\s*{p}\b(?:\s*\+\s*(['"])([^'"]*)\3)?""", body)
    if built and re.search(r"location|href|window\.open|\.load\s*\(", body):
        prefix, suffix = built.group(2), built.group(4) or ""
        return [PageRequest(urljoin(response.url, f"{prefix}{n}{suffix}"), meta={"script_page": n}) for n in pages]
    if "submit" not in body:
        return []
    field_match = (re.search(rf"\.(\w+)\.value\s*=\s*{p}\b", body)
                   or re.search(rf"getElementById\(\s*['\"](\w+)['\"]\s*\)\.value\s*=\s*{p}\b", body)
                   or re.search(rf"\$\(\s*['\"][#]?(\w+)['\"]\s*\)\.val\(\s*{p}\s*\)", body)
                   or re.search(rf"\[\s*['\"](\w+)['\"]\s*\]\.value\s*=\s*{p}\b", body))
    if not field_match:
        return []
    field = field_match.group(1)
    form_name = next((m.group(1) for pattern in _FORM_NAME if (m := pattern.search(body))), None)
    form = _find_form(response.selector, form_name, field)
    if form is None:
        return []
    fields = _form_fields(form)
    # the field may be addressed by id while the form sends it by name
    named = form.xpath(f".//*[@id='{field}']/@name").get() or field
    out = []
    for n in pages:
        out.append(_form_request(response, form, {**fields, named: str(n)}, n))
    return out


def _postback_pages(response: Response, postbacks: list[list[str]], current: int) -> list[PageRequest]:
    """ASP.NET: only the next page, posted with this page's view state (each page carries the next one's)."""
    wanted = current + 1
    for target, argument in postbacks:
        number = _PAGE_ARG.match(argument)
        if not number or int(number.group(1)) != wanted or wanted > _MAX_PAGES:
            continue
        form = response.xpath("//form[.//input[@name='__VIEWSTATE']]") or response.xpath("//form")
        if not form:
            return []
        fields = _form_fields(form[0])
        fields.update({"__EVENTTARGET": target, "__EVENTARGUMENT": argument})
        action = urljoin(response.url, form[0].attrib.get("action") or response.url)
        return [PageRequest(action, method="POST", formdata=fields, headers={"Referer": response.url},
                            meta={"script_page": wanted})]
    return []


@register
class ScriptPagerAdapter(ListAdapter):
    name = "script-pager"
    priority = 30
    aliases = ("aspnet",)  # the registry's hint for ASP.NET postback lists

    def matches(self, response: Response) -> bool:
        return bool(response.meta.get("script_page")) or bool(plan(response))

    def entries(self, response: Response) -> list[Entry]:
        return link_entries(response.selector, response.url)

    def next_pages(self, response: Response) -> list[PageRequest]:
        return plan(response)
