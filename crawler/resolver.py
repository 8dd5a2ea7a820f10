"""The DNS resolver of Scrapy's connections, with the address policy applied to every answer.

Every connection Scrapy's HTTP handler makes resolves its host here (``TWISTED_DNS_RESOLVER``), so an
address is checked where it is connected to, whatever the URL spelled and wherever a redirect
pointed: a host with any non-public address among its answers resolves to nothing (the
download fails with a DNS lookup error and the refusal is remembered for the fetch-failure record),
unless some registry row with ``allow_private=true`` names that host. Which portal may use such a
host is decided before the request (`crawler.middlewares.PrivateAddressMiddleware`); the answers
are cached, so the address checked is the address connected to.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Sequence

from scrapy.resolver import CachingHostnameResolver, HostResolution, _address_with_port, dnscache
from twisted.internet.interfaces import IAddress, IHostResolution, IResolutionReceiver
from zope.interface import provider

from crawler.addresses import AddressPolicy, AddressRefused
from crawler.proxies import allowed_proxy_hosts

logger = logging.getLogger(__name__)

# host (as given to the resolver) -> why its answer was refused; read by crawler.fetch_failures
REFUSED: dict[str, str] = {}
_REFUSED_LIMIT = 10_000


def policy_of(crawler) -> AddressPolicy | None:
    """The crawl's address policy, built from its spider's registry rows (empty before they load).

    None for a spider that crawls no registry (a test probe, a benchmark): portals are what the
    policy guards against, and only the `portals` spider crawls them.
    """
    spider = getattr(crawler, "spider", None)
    if spider is None or not hasattr(spider, "portals"):
        return None
    portals = spider.portals or {}
    cached = getattr(crawler, "_nianbao_address_policy", None)
    if cached is not None and cached[0] is portals and cached[1] == len(portals):
        return cached[2]
    policy = AddressPolicy.from_portals(portals.values())
    crawler._nianbao_address_policy = (portals, len(portals), policy)
    return policy


@provider(IResolutionReceiver)
class _CheckingReceiver:
    """Holds the answers back until all are in, then passes them on only if every one is allowed."""

    def __init__(self, receiver: IResolutionReceiver, host: str, policy: AddressPolicy):
        self.receiver = receiver
        self.host = host
        self.policy = policy
        self.addresses: list[IAddress] = []

    def resolutionBegan(self, resolution: IHostResolution) -> None:  # noqa: N802 - Twisted's interface
        self.receiver.resolutionBegan(resolution)

    def addressResolved(self, address: IAddress) -> None:  # noqa: N802
        self.addresses.append(address)

    def resolutionComplete(self) -> None:  # noqa: N802
        try:
            ips = [ipaddress.ip_address(str(a.host).split("%", 1)[0]) for a in self.addresses]
            self.policy.check_addresses(self.host, ips, None)
        except AddressRefused as exc:
            if len(REFUSED) >= _REFUSED_LIMIT:
                REFUSED.clear()
            REFUSED[self.host] = str(exc)
            logger.warning("address policy: %s", exc)
            self.receiver.resolutionComplete()  # no addresses: the connection fails before it is made
            return
        for address in self.addresses:
            self.receiver.addressResolved(address)
        self.receiver.resolutionComplete()
        if self.addresses and dnscache.limit:
            dnscache[self.host] = [_address_with_port(a, 0) for a in self.addresses]


class GuardedResolver(CachingHostnameResolver):
    """`CachingHostnameResolver` (IPv4 and IPv6, every record) that refuses non-public answers."""

    def __init__(self, reactor, cache_size: int, process=None):  # noqa: ANN001 - Twisted reactor
        super().__init__(reactor, cache_size)
        # Scrapy builds the resolver with the CrawlerProcess (one reactor for all its crawlers)
        self.process = process

    def policy(self) -> AddressPolicy | None:
        """The private hosts every running crawl's registry allows (a host-only decision); None when
        no running crawl is a registry's."""
        crawlers = list(getattr(self.process, "crawlers", None) or ([self.process] if self.process else []))
        policies = [p for p in (policy_of(c) for c in crawlers) if p is not None]
        if not policies:
            return None
        # the environment's proxies, only when the crawl allows them (crawler/proxies.py): the operator's
        # own choice, often on a private address; the targets sent through them are checked before
        allowed: dict[str, frozenset[str]] = {"(proxy)": allowed_proxy_hosts([c.settings for c in crawlers])}
        for policy in policies:
            allowed.update(policy.allowed)
        return AddressPolicy(allowed)

    @classmethod
    def from_crawler(cls, crawler, reactor):  # noqa: ANN001, ANN206 - Scrapy's resolver protocol
        cache_size = crawler.settings.getint("DNSCACHE_SIZE") if crawler.settings.getbool("DNSCACHE_ENABLED") else 0
        return cls(reactor, cache_size, crawler)

    def resolveHostName(  # noqa: N802 - Twisted's interface
        self,
        resolutionReceiver: IResolutionReceiver,  # noqa: N803
        hostName: str,  # noqa: N803
        portNumber: int = 0,  # noqa: N803
        addressTypes: Sequence[type[IAddress]] | None = None,  # noqa: N803
        transportSemantics: str = "TCP",  # noqa: N803
    ) -> IHostResolution:
        if hostName in dnscache:  # only allowed answers are cached
            return super().resolveHostName(resolutionReceiver, hostName, portNumber, addressTypes,
                                           transportSemantics)
        policy = self.policy()
        if policy is None:
            return super().resolveHostName(resolutionReceiver, hostName, portNumber, addressTypes,
                                           transportSemantics)
        try:
            policy.check_literal(hostName, None)
        except AddressRefused as exc:
            REFUSED[hostName] = str(exc)
            logger.warning("address policy: %s", exc)
            resolutionReceiver.resolutionBegan(HostResolution(hostName))
            resolutionReceiver.resolutionComplete()
            return resolutionReceiver
        return self.original_resolver.resolveHostName(
            _CheckingReceiver(resolutionReceiver, hostName, policy), hostName, portNumber, addressTypes,
            transportSemantics,
        )
