"""Scrapy's Downloader, holding CONCURRENT_REQUESTS_PER_DOMAIN when requests are queued at once.

In Scrapy 2.19 on the asyncio reactor a slot's queue is drained by a loop that schedules each
download as a task and checks the slot's free transfer places after each one; a task only counts
itself as transferring once it starts running, on the loop's next turn, so every queued request
of a host starts at once (observed: five detail pages of one portal fetched together with
CONCURRENT_REQUESTS_PER_DOMAIN=1 and DOWNLOAD_DELAY=0). Here a download holds its place from
the moment it is scheduled.
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any

from scrapy import Request
from scrapy.core.downloader import Downloader, Slot


class PoliteDownloader(Downloader):
    """Downloader whose per-slot concurrency counts downloads scheduled but not yet started."""

    def _wait_for_download(self, slot: Slot, request: Request, queue_dfd: Any) -> Coroutine[Any, Any, None]:
        slot.transferring.add(request)  # released by Downloader._download when the download ends
        return super()._wait_for_download(slot, request, queue_dfd)
