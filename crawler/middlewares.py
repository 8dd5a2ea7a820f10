"""Downloader middlewares: anti-bot answers mark a portal blocked; private addresses stay closed.

`BlockedPortalMiddleware` recognises the challenge pages anti-bot services answer with (瑞数
412/202 pages with `$_ts`, 加速乐 521 cookie scripts, WAF 403 pages, bare JS challenges) and marks the
portal blocked: counted in the stats, logged, and every further request of that portal dropped, so
the crawl never loops on a challenge it cannot pass.

`PrivateAddressMiddleware` applies the address policy (`crawler.addresses`) to every request before
it is sent, redirects and attachments included; `crawler.resolver` applies it where names resolve.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from twisted.internet.threads import deferToThread
from twisted.python.failure import Failure

from crawler.addresses import AddressRefused, normalise_host
from crawler.resolver import policy_of

logger = logging.getLogger(__name__)

_CHALLENGE_MARKERS = re.compile(
    rb"\$_ts|_\$[a-z]{2}|\bFSSBBIl1UgzbN7N|__jsl_clearance|acw_sc__v2|cdn_sec_tc|waf|challenge|"
    rb"\xe5\xae\x89\xe5\x85\xa8\xe9\xaa\x8c\xe8\xaf\x81|"  # 安全验证
    rb"\xe8\xae\xbf\xe9\x97\xae\xe8\xa2\xab\xe6\x8b\xa6\xe6\x88\xaa|"  # 访问被拦截
    rb"\xe4\xba\xba\xe6\x9c\xba\xe9\xaa\x8c\xe8\xaf\x81",  # 人机验证
    re.I,
)
_COOKIE_SCRIPT = re.compile(rb"document\.cookie\s*=", re.I)
_RELOAD = re.compile(rb"location\.(reload|href|replace)|window\.location\s*=", re.I)
_SMALL_PAGE = 16 * 1024


def is_challenge(response: Response, blocked_codes: list[int]) -> str | None:
    """Why `response` is an anti-bot answer rather than the page, or None when it is the page."""
    status = response.status
    if status in (412, 521) and status in blocked_codes:
        return f"HTTP {status} anti-bot answer"
    small_ok = status in (200, 202) and len(response.body) < _SMALL_PAGE
    if status not in blocked_codes and not small_ok:
        return None  # the common case, decided without scanning the body
    body = response.body[:64 * 1024]
    cookie_script = bool(_COOKIE_SCRIPT.search(body) and _RELOAD.search(body))
    if status in blocked_codes and (cookie_script or _CHALLENGE_MARKERS.search(body)):
        return f"HTTP {status} challenge page"
    if small_ok and (cookie_script or b"$_ts" in body) and b"<a " not in body.lower():
        return f"HTTP {status} JavaScript challenge"
    return None


class BlockedPortalMiddleware:
    """Mark a portal blocked on its first anti-bot answer and drop its further requests."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.stats = crawler.stats
        self.blocked_codes = [int(c) for c in crawler.settings.getlist("BLOCKED_STATUS_CODES", [403, 412, 521])]
        self.blocked: dict[str, str] = {}

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_request(self, request: Request):
        portal_id = request.meta.get("portal_id")
        if portal_id in self.blocked:
            self.stats.inc_value(f"portal/{portal_id}/dropped_blocked")
            raise IgnoreRequest(f"{request.url}: portal {portal_id} is blocked ({self.blocked[portal_id]})")
        return None

    def process_response(self, request: Request, response: Response):
        portal_id = request.meta.get("portal_id")
        reason = is_challenge(response, self.blocked_codes)
        if reason is None or not portal_id or request.meta.get("robots_txt"):  # the host's (crawler/robots.py)
            return response
        if portal_id not in self.blocked:
            self.blocked[portal_id] = reason
            self.stats.set_value(f"portal/{portal_id}/blocked", 1)
            self.stats.inc_value("portals/blocked")
            blocked = getattr(self.crawler.spider, "blocked_portals", None)
            if isinstance(blocked, set):
                blocked.add(portal_id)
            logger.warning("portal %s blocked: %s at %s; its further requests are dropped",
                           portal_id, reason, response.url)
        raise IgnoreRequest(f"{response.url}: {reason}")


class PrivateAddressRefused(IgnoreRequest):
    """A request the address policy refused before it was sent."""


class PrivateAddressMiddleware:
    """Apply the address policy (crawler.addresses) to every request before it is sent.

    An address in any spelling, or a local name, is decided from the URL. A name one portal's row
    allows on a private address is resolved here, so that other portals cannot use it; every other
    name is checked where it is resolved for the connection (crawler.resolver). Redirects come
    back through here. The address a response came from is checked again, as a last guard.
    """

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def _refuse(self, request: Request, reason: str) -> None:
        portal_id = request.meta.get("portal_id")
        self.crawler.stats.inc_value(f"portal/{portal_id}/private_refused")
        logger.warning("%s: address refused: %s", request.url, reason)
        raise PrivateAddressRefused(f"{request.url}: address refused: {reason}")

    def process_request(self, request: Request):
        parts = urlsplit(request.url)
        host = parts.hostname or ""
        portal_id = request.meta.get("portal_id")
        policy = policy_of(self.crawler)
        if policy is None:
            return None
        try:
            if policy.check_literal(host, portal_id) is not None:
                return None
        except AddressRefused as exc:
            self._refuse(request, str(exc))
        name = normalise_host(host)
        if name not in policy.private_hosts(None) or name in policy.private_hosts(portal_id):
            return None
        # another portal's private host: resolved off the reactor thread, then decided
        checked = deferToThread(policy.check, host, portal_id, parts.port)
        checked.addCallbacks(lambda _addresses: None, self._resolution_failed, errbackArgs=(request,))
        return checked

    def _resolution_failed(self, failure: Failure, request: Request) -> None:
        if failure.check(AddressRefused):
            self._refuse(request, str(failure.value))
        return None  # a name that does not resolve fails in the download with its own DNS error

    def process_response(self, request: Request, response: Response):
        address = None if request.meta.get("proxy") else response.ip_address  # a proxy's: crawler/proxies.py
        policy = policy_of(self.crawler)
        if address is not None and policy is not None:
            try:
                policy.check_addresses(urlsplit(request.url).hostname or "", [address],
                                       request.meta.get("portal_id"))
            except AddressRefused as exc:
                self._refuse(request, str(exc))
        return response
