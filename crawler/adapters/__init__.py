"""List adapters, one module per CMS family, chosen by fingerprinting the page.

An adapter knows how one family lays out a 年报 column: where the items are and how further pages
are reached. Adding a family means adding a module here that subclasses `ListAdapter` and decorates
it with `@register`; every module of this package is imported when the registry is first used, so
the spider core needs no change.
"""

from __future__ import annotations

import importlib
import pkgutil

from scrapy.http import Response

from crawler.adapters.base import Entry, PageRequest

__all__ = ["Entry", "ListAdapter", "PageRequest", "adapter_named", "register", "select_adapter"]

_ADAPTERS: dict[str, ListAdapter] = {}
# other names a family goes by (the registry's `family` hints: aspnet → script-pager)
_ALIASES: dict[str, str] = {}
_LOADED = False


class ListAdapter:
    """The interface of a CMS family's list handling; `GenericAdapter` is the fallback."""

    name = "base"
    # lower is tried first; the generic fallback is last
    priority = 100
    aliases: tuple[str, ...] = ()

    def matches(self, response: Response) -> bool:
        """Does this page look like one of this family's list pages?"""
        raise NotImplementedError

    def entries(self, response: Response) -> list[Entry]:
        """The items the list shows on this page."""
        raise NotImplementedError

    def next_pages(self, response: Response) -> list[PageRequest]:
        """The further pages of this list reachable from this page."""
        raise NotImplementedError

    def needs_browser(self, response: Response, entries: list[Entry]) -> bool:
        """True when the list is built by script in the browser and must be rendered."""
        return False

    def column_pages(self, response: Response) -> list[PageRequest]:
        """Pages of the 年报 column that this (non-list) page leads to through the family's own data
        rather than a link: a platform shell's catalogue tree, say. Walked like the column's pages."""
        return []


def register(cls: type[ListAdapter]) -> type[ListAdapter]:
    """Class decorator: add an adapter family to the registry."""
    _ADAPTERS[cls.name] = cls()
    for alias in cls.aliases:
        _ALIASES[alias] = cls.name
    return cls


def _load_all() -> None:
    global _LOADED
    if _LOADED:
        return
    for module in pkgutil.iter_modules(__path__):
        if module.name != "base":
            importlib.import_module(f"{__name__}.{module.name}")
    _LOADED = True


def adapters() -> list[ListAdapter]:
    """All registered adapters, in the order they are tried."""
    _load_all()
    return sorted(_ADAPTERS.values(), key=lambda a: (a.priority, a.name))


def adapter_named(name: str | None) -> ListAdapter | None:
    _load_all()
    return _ADAPTERS.get(name or "") or _ADAPTERS.get(_ALIASES.get(name or "", ""))


def select_adapter(response: Response, name: str | None = None) -> ListAdapter:
    """The adapter `name` when given (pages reached through an adapter stay with it), else the
    first whose fingerprint matches the page."""
    chosen = adapter_named(name)
    if chosen is not None:
        return chosen
    for adapter in adapters():
        if adapter.matches(response):
            return adapter
    raise LookupError(f"no list adapter matches {response.url}")
