"""Reading the JSON that list services answer with: bounded, and tolerant of the shapes portals send
(a JSON body, JSONP ``callback({...})``, a BOM, an HTML error page in place of JSON)."""

from __future__ import annotations

import json
import re
from typing import Any

from scrapy.http import Response

# a list service's answer is small; anything larger is not a list page
MAX_JSON_BYTES = 8 * 1024 * 1024
_JSONP = re.compile(r"^\s*[\w$.]+\s*\(\s*(.*?)\s*\)\s*;?\s*$", re.S)


def response_json(response: Response) -> Any | None:
    """The decoded JSON body of `response`, or None when it is not JSON (or too large to be a list)."""
    body = response.body
    if not body or len(body) > MAX_JSON_BYTES:
        return None
    text = getattr(response, "text", None)
    if text is None:
        text = body.decode("utf-8", "replace")
    text = text.lstrip("\ufeff").strip()
    if not text or text[0] not in "[{":
        wrapped = _JSONP.match(text)
        if not wrapped:
            return None
        text = wrapped.group(1)
    try:
        return json.loads(text)
    except ValueError:
        return None


def as_int(value: Any) -> int | None:
    """An integer from a JSON number or a numeric string ('213'); None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None
