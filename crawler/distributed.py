"""Distributed mode: several `scrapy crawl portals` workers share one frontier in Redis.

Switched on by `DISTRIBUTED = True` with `REDIS_URL`; without them nothing here is used and no Redis is
needed.
"""

from __future__ import annotations

from typing import Any


def distributed_enabled(settings: Any) -> bool:
    """True when the settings ask for the shared Redis frontier."""
    return bool(settings.getbool("DISTRIBUTED", False) and settings.get("REDIS_URL"))


def shared_digest_index(settings: Any) -> Any:
    """The cluster's payload-digest index (Redis), or None when the crawl runs alone."""
    if not distributed_enabled(settings):
        return None
    return RedisDigestIndex.from_settings(settings)
