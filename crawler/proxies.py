"""Proxies the environment names (http_proxy, https_proxy …): refused unless PROXY_FROM_ENV allows them.

Through a proxy the crawl connects to the proxy, and the proxy, not the address policy
(crawler/addresses.py), resolves and connects to the portal's host: a name resolving to a private
address would reach it unchecked. So the decision is explicit:

- PROXY_FROM_ENV false (the default): the environment's proxies are not used, requests go direct
  and the resolver checks every address as always. The crawl says so once (a WARNING naming them)
  and keeps the decision in its stats (``proxy/from_env``, stored with the crawl's row).
- PROXY_FROM_ENV true: the operator vouches for the proxies. Their own hosts may be connected to
  (private ones too: a proxy is usually on the local network), and only as proxies; before a request
  goes through one, its target host is resolved here and every address checked for the request's
  portal (a host that cannot be resolved here is not sent). The decision and each proxy's
  addresses are logged and kept in the stats.

`GuardedProxyMiddleware` replaces Scrapy's HttpProxyMiddleware (same place, 750); the resolver asks
`allowed_proxy_hosts` which proxy hosts it may resolve to private addresses.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit
from urllib.request import getproxies

from scrapy import Request
from scrapy.downloadermiddlewares.httpproxy import HttpProxyMiddleware
from scrapy.exceptions import NotConfigured
from twisted.internet.threads import deferToThread
from twisted.python.failure import Failure

from crawler.addresses import AddressRefused, normalise_host, resolve, why_not_public

logger = logging.getLogger(__name__)

SETTING = "PROXY_FROM_ENV"


def env_proxies() -> dict[str, str]:
    """The proxies the environment names, by scheme (as urllib and Scrapy read them)."""
    return {scheme: url for scheme, url in getproxies().items() if scheme != "no"}


def proxy_host(url: str) -> str | None:
    """The host of a proxy URL (``http://10.0.0.5:3128``, or a bare ``host:port``)."""
    host = urlsplit(url if "//" in url else f"//{url}").hostname
    return normalise_host(host) if host else None


def allowed_proxy_hosts(settings_list) -> frozenset[str]:  # noqa: ANN001 - Scrapy Settings objects
    """The proxy hosts the resolver may resolve to private addresses: none unless a crawl allows proxies."""
    if not any(s.getbool(SETTING) for s in settings_list):
        return frozenset()
    return frozenset(h for h in (proxy_host(u) for u in env_proxies().values()) if h)


def _describe(url: str) -> str:
    """'URL (addresses, which kind)' for the log line recording the decision."""
    host = proxy_host(url)
    try:
        addresses = resolve(host) if host else []
    except OSError as exc:
        return f"{url} (does not resolve here: {exc})"
    kinds = [f"{a}{' ' + why if (why := why_not_public(a)) else ''}" for a in addresses]
    return f"{url} ({', '.join(kinds)})"


class GuardedProxyMiddleware(HttpProxyMiddleware):
    """Scrapy's proxy middleware, with the environment's proxies used only when PROXY_FROM_ENV allows
    them, and each proxied request's target host checked by the address policy first."""

    def __init__(self, crawler, auth_encoding: str | None = "latin-1") -> None:  # noqa: ANN001
        super().__init__(auth_encoding)
        self.crawler = crawler
        self.allowed = crawler.settings.getbool(SETTING)
        named = env_proxies()
        if not named:
            crawler.stats.set_value("proxy/from_env", "none named")
            return
        shown = ", ".join(f"{scheme}_proxy={url}" for scheme, url in sorted(named.items()))
        if not self.allowed:
            self.proxies = {}
            decision = f"not used: {shown} (set {SETTING}=True to use them)"
            logger.warning("proxies named in the environment are %s; the address policy cannot check where a "
                           "proxy connects, so requests go direct", decision)
        else:
            decision = "used: " + ", ".join(f"{scheme}_proxy={_describe(url)}" for scheme, url in sorted(named.items()))
            logger.warning("proxies named in the environment are %s (%s=True); every target host is resolved and "
                           "checked here before a request goes through them", decision, SETTING)
        crawler.stats.set_value("proxy/from_env", decision)

    @classmethod
    def from_crawler(cls, crawler):  # noqa: ANN001, ANN206 - Scrapy's middleware protocol
        if not crawler.settings.getbool("HTTPPROXY_ENABLED"):
            raise NotConfigured
        return cls(crawler, crawler.settings.get("HTTPPROXY_AUTH_ENCODING"))

    def process_request(self, request: Request, spider=None):  # noqa: ANN001
        if not self.allowed and request.meta.get("proxy") is not None:
            request.meta["proxy"] = None  # a proxy named by whoever made the request: the same rule
        super().process_request(request)
        if not request.meta.get("proxy"):
            return None
        from crawler.resolver import policy_of

        policy = policy_of(self.crawler)
        if policy is None:
            return None
        parts = urlsplit(request.url)
        # the proxy would resolve the target itself: resolve and check it here first (off the reactor thread)
        checked = deferToThread(policy.check, parts.hostname or "", request.meta.get("portal_id"), parts.port)
        checked.addCallbacks(lambda _addresses: None, self._refused, errbackArgs=(request,))
        return checked

    def _refused(self, failure: Failure, request: Request) -> None:
        from crawler.middlewares import PrivateAddressRefused

        host = urlsplit(request.url).hostname
        if failure.check(AddressRefused):
            why = str(failure.value)
        else:
            why = f"{host} cannot be resolved here to check it ({failure.getErrorMessage()}); not sent through the proxy"
        portal_id = request.meta.get("portal_id")
        self.crawler.stats.inc_value(f"portal/{portal_id}/private_refused")
        logger.warning("%s: address refused: %s", request.url, why)
        raise PrivateAddressRefused(f"{request.url}: address refused: {why}")
