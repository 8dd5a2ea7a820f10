"""The address policy: which hosts a crawl may connect to.

A host is read the way a browser or `getaddrinfo` reads it, not the way it is written:
``127.1``, ``2130706433``, ``0x7f000001``, ``0177.0.0.1``, ``0`` and ``[::ffff:127.0.0.1]`` are all
addresses, and a name is judged by every address it resolves to. An address that is not on the
public internet — loopback, private (RFC 1918, ULA), link-local (cloud metadata at 169.254.169.254
included), shared CGNAT space, multicast, reserved, unspecified, documentation ranges, or an IPv6
form that embeds one of them (IPv4-mapped, 6to4, NAT64, Teredo) — is refused, except on the hosts a
registry row with ``allow_private=true`` names (its own URL's host), and only for that portal.

The same functions serve the registry (`is_private_host`), Scrapy's connections
(`crawler.resolver`, `crawler.middlewares.PrivateAddressMiddleware`) and the browser
(`crawler.browser`).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# names that never leave the machine, whatever a resolver says
_LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")
_LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".home.arpa")
_SHARED = ipaddress.ip_network("100.64.0.0/10")  # CGNAT, RFC 6598
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


class AddressRefused(Exception):
    """A connection the address policy does not allow; the message says which address and why."""


def _ipv4_part(text: str) -> int | None:
    """One dotted part as the WHATWG URL parser (and inet_aton) reads it: decimal, 0x hex, 0-octal."""
    if not text:
        return None
    try:
        if text[:2] in ("0x", "0X"):
            return int(text[2:] or "0", 16)
        if len(text) > 1 and text[0] == "0":
            return int(text[1:], 8)
        if text.isdigit():
            return int(text)
    except ValueError:
        return None
    return None


def _parse_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """`host` as an IPv4 address in any spelling a URL may use (``127.1``, ``0x7f.1``, ``2130706433``)."""
    parts = host.split(".")
    if parts and parts[-1] == "" and len(parts) > 1:
        parts.pop()  # a trailing dot
    if not 1 <= len(parts) <= 4:
        return None
    numbers = [_ipv4_part(p) for p in parts]
    if any(n is None for n in numbers):
        return None
    *head, last = numbers
    if any(n > 255 for n in head) or last >= 256 ** (5 - len(numbers)):
        return None
    value = 0
    for n in head:
        value = value * 256 + n
    value = value * 256 ** (5 - len(numbers)) + last
    return ipaddress.IPv4Address(value)


def normalise_host(host: str) -> str:
    """The host as compared: lower case, no brackets, no trailing dot, IDNA-encoded names;
    an address in its canonical form whatever its spelling (``0x7f.1`` → ``127.0.0.1``)."""
    address = parse_address(host)
    if address is not None:
        return str(address)
    text = (host or "").strip().strip("[]").lower().rstrip(".")
    try:
        return text.encode("idna").decode("ascii") if not text.isascii() else text
    except UnicodeError:
        return text


def parse_address(host: str) -> IPAddress | None:
    """The IP address `host` spells (any IPv4 spelling, IPv6 with or without brackets or zone), or
    None for a name."""
    text = (host or "").strip().lower()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    if ":" in text:
        text = text.split("%", 1)[0]  # a zone id (fe80::1%eth0) names an interface, not an address
        try:
            return ipaddress.IPv6Address(text)
        except ValueError:
            return None
    return _parse_ipv4(text)


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, compatible, 6to4, NAT64, Teredo server/client)."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in _NAT64 or address in _NAT64_LOCAL:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address in _IPV4_COMPATIBLE and int(address) > 1:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def why_not_public(address: IPAddress) -> str | None:
    """Why `address` is not a public internet address (e.g. "loopback"), or None when it is one."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            reason = why_not_public(embedded)
            return f"{reason} (embedded in {address})" if reason else None
    checks = (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("shared address space (CGNAT)", isinstance(address, ipaddress.IPv4Address) and address in _SHARED),
        ("private", address.is_private),
        ("reserved", address.is_reserved),
        ("not globally routable", not address.is_global),
    )
    for reason, hit in checks:
        if hit:
            return reason
    return None


def is_local_name(host: str) -> bool:
    """A name that means this machine or its local network (``localhost``, ``*.local``, ``*.internal``)."""
    name = normalise_host(host)
    return name in _LOCAL_NAMES or name.endswith(_LOCAL_SUFFIXES)


def is_private_host(host: str) -> bool:
    """True when `host` as written is a non-public address (any spelling) or a local name.

    A name is not resolved here; connections resolve it and check every address (`check_addresses`).
    """
    if is_local_name(host):
        return True
    address = parse_address(host)
    return address is not None and why_not_public(address) is not None


def resolve(host: str, port: int | None = None) -> list[IPAddress]:
    """Every address (A and AAAA) `host` resolves to; an address spelled as a host is itself.

    Raises `socket.gaierror` when the name does not resolve.
    """
    address = parse_address(host)
    if address is not None:
        return [address]
    infos = socket.getaddrinfo(normalise_host(host), port or 0, type=socket.SOCK_STREAM)
    found: dict[str, IPAddress] = {}
    for _family, _type, _proto, _name, sockaddr in infos:
        text = str(sockaddr[0]).split("%", 1)[0]
        found.setdefault(text, ipaddress.ip_address(text))
    return list(found.values())


@dataclass
class AddressPolicy:
    """Which private hosts which portal may reach: ``allowed[portal_id]`` = normalised hosts.

    Every other host must resolve to public addresses only. Requests that belong to no portal
    (robots.txt) may reach a private host that some portal is allowed.
    """

    allowed: dict[str, frozenset[str]] = field(default_factory=dict)

    @classmethod
    def from_portals(cls, portals: Iterable) -> AddressPolicy:
        """From registry rows (`crawler.registry.Portal`): each allow_private row allows its own URL's host."""
        allowed = {}
        for portal in portals:
            host = urlsplit(portal.url).hostname if portal.allow_private else None
            allowed[portal.id] = frozenset({normalise_host(host)} if host else ())
        return cls(allowed)

    def private_hosts(self, portal_id: str | None) -> frozenset[str]:
        """The hosts `portal_id` may reach on private addresses (all portals' for a portal-less request)."""
        if portal_id is None or portal_id not in self.allowed:
            return frozenset().union(*self.allowed.values()) if self.allowed else frozenset()
        return self.allowed[portal_id]

    def check_addresses(self, host: str, addresses: Iterable[IPAddress], portal_id: str | None) -> None:
        """Raise `AddressRefused` when `host` (as resolved to `addresses`) is not allowed for `portal_id`."""
        name = normalise_host(host)
        if name in self.private_hosts(portal_id):
            return
        if is_local_name(name):
            raise AddressRefused(f"{host} is a local name" + self._hint(portal_id))
        for address in addresses:
            reason = why_not_public(address)
            if reason:
                shown = "" if str(address) == host else f" resolves to {address}, which"
                raise AddressRefused(f"{host}{shown} is a {reason} address" + self._hint(portal_id))

    def check_literal(self, host: str, portal_id: str | None) -> IPAddress | None:
        """Check a host without resolving it: an address (any spelling) or a local name is decided
        here (raising `AddressRefused`); returns the address, or None for a name still to resolve."""
        address = parse_address(host)
        if address is not None or is_local_name(host):
            self.check_addresses(host, [address] if address is not None else [], portal_id)
        return address

    def check(self, host: str, portal_id: str | None, port: int | None = None) -> list[IPAddress]:
        """Resolve `host` and check every address it has; returns them. Blocking (DNS)."""
        address = self.check_literal(host, portal_id)
        if address is not None:
            return [address]
        if normalise_host(host) in self.private_hosts(portal_id):
            return []
        addresses = resolve(host, port)
        self.check_addresses(host, addresses, portal_id)
        return addresses

    @staticmethod
    def _hint(portal_id: str | None) -> str:
        if portal_id is None:
            return "; no registry row with allow_private=true names this host"
        return f"; refused for portal {portal_id} (allow_private=true allows only the row's own host)"
