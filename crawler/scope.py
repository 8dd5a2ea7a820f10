"""Which hosts belong to a portal: pages stay on the portal's site; attachments may use the same
government's other hosts (file servers, CDNs under the same gov.cn domain)."""

from __future__ import annotations

import functools
import ipaddress
from urllib.parse import urlsplit

# second-level labels under which the registrable domain has three labels (xx.gov.cn, xx.com.cn)
_SECOND_LEVEL = {"gov", "com", "net", "org", "edu", "ac"}


@functools.lru_cache(maxsize=4096)  # a crawl asks about the same few hosts for every link
def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def site_of(url: str) -> str:
    """The site a URL belongs to: host:port for IP addresses, else the registrable domain
    (``wjw.harbin.gov.cn`` → ``harbin.gov.cn``, ``www.example.com.cn`` → ``example.com.cn``)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if _is_ip(host) or "." not in host:
        return f"{host}:{parts.port or (443 if parts.scheme == 'https' else 80)}"
    labels = host.split(".")
    if len(labels) >= 3 and labels[-1] == "cn" and labels[-2] in _SECOND_LEVEL:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def same_site(url: str, other: str) -> bool:
    """True when both URLs are on the same site (see `site_of`)."""
    return site_of(url) == site_of(other)


def same_government(url: str, portal_url: str) -> bool:
    """Hosts an in-scope report page may take attachments from: the portal's own site, another
    port of the portal's IP address, or any government host (``*.gov.cn``)."""
    host = (urlsplit(url).hostname or "").lower()
    portal_host = (urlsplit(portal_url).hostname or "").lower()
    if same_site(url, portal_url):
        return True
    if _is_ip(host) or _is_ip(portal_host):
        return host == portal_host
    return host.endswith(".gov.cn") or host == "gov.cn"
