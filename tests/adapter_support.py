"""Building Scrapy responses from the family fixtures (tests/fixtures/families/) for adapter tests."""

from __future__ import annotations

from pathlib import Path

from scrapy import Request
from scrapy.http import HtmlResponse, JsonResponse, Response

FAMILIES = Path(__file__).resolve().parent / "fixtures" / "families"


def fixture_bytes(family: str, name: str) -> bytes:
    return (FAMILIES / family / name).read_bytes()


def html_response(url: str, body: bytes | str, meta: dict | None = None) -> HtmlResponse:
    data = body.encode("utf-8") if isinstance(body, str) else body
    return HtmlResponse(url, body=data, encoding="utf-8", request=Request(url, meta=meta or {}),
                        headers={"Content-Type": "text/html; charset=utf-8"})


def json_response(url: str, body: bytes | str, meta: dict | None = None, method: str = "GET") -> Response:
    data = body.encode("utf-8") if isinstance(body, str) else body
    return JsonResponse(url, body=data, encoding="utf-8", request=Request(url, method=method, meta=meta or {}),
                        headers={"Content-Type": "application/json;charset=UTF-8"})
