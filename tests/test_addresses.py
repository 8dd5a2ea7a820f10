"""The address policy: every spelling of an address, every resolved address, allow_private scoped to
the row's own host, redirects, and every request a rendered page makes.

The crawl tests run real crawls against servers on loopback addresses; each server's own request
log is the proof that a refused request never reached it.
"""

from __future__ import annotations

import ipaddress
import shutil
import sqlite3

import pytest
from loopback_server import (
    LoopbackServer,
    html,
    ipv6_loopback_available,
    pdf,
    redirect,
    report_list,
    run_crawl,
    write_registry,
)

from crawler.addresses import AddressPolicy, AddressRefused, normalise_host, parse_address, why_not_public
from crawler.registry import Portal, load_registry

LOOPBACK_SPELLINGS = ("127.1", "2130706433", "0x7f000001", "0177.0.0.1", "0x7f.1", "127.0.0.1.", "017700000001",
                      "[::ffff:127.0.0.1]", "[::ffff:7f00:1]", "[::127.0.0.1]", "[2002:7f00:1::]")


def test_every_spelling_of_an_address_is_read_as_a_connection_reads_it() -> None:
    for spelling in LOOPBACK_SPELLINGS:
        address = parse_address(spelling)
        assert address is not None, spelling
        assert why_not_public(address).startswith("loopback"), spelling
    assert parse_address("0") == ipaddress.ip_address("0.0.0.0")
    assert parse_address("10.1") == ipaddress.ip_address("10.0.0.1")
    assert parse_address("192.168.257") == ipaddress.ip_address("192.168.1.1")
    assert parse_address("[fe80::1%25eth0]") == ipaddress.ip_address("fe80::1")
    assert normalise_host("0x7F.0.0.1") == normalise_host("127.1") == "127.0.0.1"
    assert normalise_host("WWW.Example.GOV.CN.") == "www.example.gov.cn"
    for name in ("www.gov.cn", "1.2.3.256", "4294967296", "09.1.1.1", "example.0x"):
        assert parse_address(name) is None, name


@pytest.mark.parametrize(("host", "reason"), [
    ("0", "unspecified"), ("[::]", "unspecified"), ("10.1", "private"), ("172.16.0.1", "private"),
    ("192.168.0.1", "private"), ("169.254.169.254", "link-local"), ("[fe80::1]", "link-local"),
    ("100.64.0.1", "shared address space (CGNAT)"), ("224.0.0.251", "multicast"), ("[ff02::1]", "multicast"),
    ("240.0.0.1", "private"), ("[fc00::1]", "private"), ("[::1]", "loopback"), ("192.0.2.7", "private"),
    ("[64:ff9b::a9fe:a9fe]", "link-local"), ("[::ffff:169.254.169.254]", "link-local"),
])
def test_non_public_addresses_are_named_with_their_kind(host: str, reason: str) -> None:
    assert why_not_public(parse_address(host)).startswith(reason), host


def test_public_addresses_pass() -> None:
    for host in ("8.8.8.8", "[2001:4860:4860::8888]", "[::ffff:8.8.8.8]", "202.108.22.5"):
        assert why_not_public(parse_address(host)) is None, host


def test_allow_private_allows_only_the_rows_own_host() -> None:
    policy = AddressPolicy.from_portals([
        Portal(id="lab", agency="样例", url="http://127.0.0.2:8000/", allow_private=True),
        Portal(id="public", agency="某局", url="https://www.example.gov.cn/"),
    ])
    loopback2 = [ipaddress.ip_address("127.0.0.2")]
    policy.check_addresses("127.0.0.2", loopback2, "lab")
    policy.check_addresses("0x7f.0.0.2", loopback2, "lab")  # the same host, spelled otherwise
    for host in ("127.0.0.1", "127.1", "10.1", "169.254.169.254", "localhost"):
        with pytest.raises(AddressRefused):
            policy.check_literal(host, "lab")
    with pytest.raises(AddressRefused, match="resolves to 10.0.0.5"):
        policy.check_addresses("intranet.example.gov.cn", [ipaddress.ip_address("10.0.0.5")], "lab")
    with pytest.raises(AddressRefused, match="portal public"):
        policy.check_literal("127.0.0.2", "public")
    # a name with one private address among its public ones is refused as a whole
    with pytest.raises(AddressRefused):
        policy.check_addresses("mixed.example.cn", [ipaddress.ip_address("1.2.3.4"),
                                                    ipaddress.ip_address("127.0.0.1")], "public")
    policy.check_literal("127.0.0.2", None)  # robots.txt of the lab portal


def test_the_registry_reads_every_spelling(tmp_path) -> None:
    rows = [{"id": f"r{i}", "agency": "某局", "url": f"http://{host}:8080/"}
            for i, host in enumerate(LOOPBACK_SPELLINGS + ("0", "10.1", "169.254.169.254", "100.64.0.1"))]
    rows.append({"id": "ok", "agency": "某局", "url": "http://www.example.gov.cn/"})
    rows.append({"id": "lab", "agency": "某局", "url": "http://127.1:8080/", "allow_private": "true"})
    registry = load_registry(write_registry(tmp_path / "r.csv", rows))
    assert [p.id for p in registry.portals] == ["ok", "lab"]
    assert len(registry.errors) == len(rows) - 2
    assert all("private" in e.message for e in registry.errors)


# ---------------------------------------------------------------- crawls


def _failures(tmp_path) -> dict[str, tuple[str, str]]:
    db = sqlite3.connect(tmp_path / "data" / "catalog.db")
    rows = db.execute("select url, reason, detail from fetch_failures").fetchall()
    db.close()
    return {url: (reason, detail) for url, reason, detail in rows}


def test_no_spelling_name_or_redirect_reaches_a_private_address(tmp_path) -> None:
    """A portal allowed on 127.0.0.2 redirects its report links to 127.0.0.1 spelled every way, to a
    name resolving there, to other private ranges; a portal not allowed any private address has a
    name resolving to 127.0.0.3. None of it may reach the servers behind those addresses."""
    with LoopbackServer("127.0.0.1") as victim, LoopbackServer("127.0.0.3") as named, \
            LoopbackServer("127.0.0.2") as front:
        victim.routes["/robots.txt"] = (200, {"Content-Type": "text/plain"}, b"")
        targets = [f"http://{host}:{victim.port}/secret{i}.pdf" for i, host in enumerate(
            LOOPBACK_SPELLINGS + ("127.0.0.1", "0", "localhost", "victim.test", "10.1", "169.254.169.254"))]
        if ipv6_loopback_available():
            victim6 = LoopbackServer("::1").__enter__()
            targets.append(victim6.url("/secret6.pdf"))
        else:
            victim6 = None
        links = {f"/go/{i}.pdf": f"第{i}局" for i in range(len(targets))}
        links["/own.pdf"] = "本局"
        front.routes["/"] = report_list(links)
        front.routes["/own.pdf"] = pdf("own host")
        for i, target in enumerate(targets):
            front.routes[f"/go/{i}.pdf"] = redirect(target)
        named.routes["/"] = report_list({"/x.pdf": "某局"})
        registry = write_registry(tmp_path / "portals.csv", [
            {"id": "lab", "agency": "样例局", "url": front.url("/"), "allow_private": "true"},
            {"id": "named", "agency": "某局", "url": f"http://portal.test:{named.port}/"},
        ])
        try:
            result = run_crawl(tmp_path, registry, {"RETRY_TIMES": 0},
                               hosts={"victim.test": "127.0.0.1", "portal.test": "127.0.0.3"})
        finally:
            if victim6 is not None:
                victim6.__exit__(None, None, None)
    assert result.returncode == 0, result.stderr[-3000:]
    assert victim.log == [], [h.path for h in victim.log]
    assert named.log == [], [h.path for h in named.log]
    if victim6 is not None:
        assert victim6.log == []
    assert [h.path for h in front.hits("/own.pdf")] == ["/own.pdf"]  # the row's own host stays open
    failures = _failures(tmp_path)
    for i, target in enumerate(targets):
        reason, detail = failures.get(front.url(f"/go/{i}.pdf"), (None, None))
        assert reason == "address_refused", (target, reason, detail)
    assert failures[f"http://portal.test:{named.port}/"][0] == "address_refused"
    assert "resolves to 127.0.0.3" in failures[f"http://portal.test:{named.port}/"][1]


@pytest.mark.skipif(not (shutil.which("chromium") or shutil.which("chromium-browser")), reason="no Chromium")
def test_a_rendered_page_cannot_reach_a_private_address(tmp_path) -> None:
    """The page's iframe, images, fetch, XHR and WebSocket point at 127.0.0.1 spelled several ways,
    or at the page's own host, which redirects there; the browser follows the registry URL's redirect
    and the page's redirects on its own host, and fetches nothing of the rest."""
    with LoopbackServer("127.0.0.1") as victim, LoopbackServer("127.0.0.2") as front:
        v = victim.port
        front.routes["/start"] = redirect("/")
        for name in ("img", "frame", "fetch"):
            front.routes[f"/bounce-{name}"] = redirect(f"http://127.0.0.1:{v}/{name}-redirected")
        front.routes["/bounce-own"] = redirect("/own-redirected.png")
        front.routes["/own-redirected.png"] = (200, {"Content-Type": "image/png"}, b"\x89PNG\r\n\x1a\n")
        front.routes["/"] = html(f"""
            <h1>政府信息公开年报</h1>
            <img src="/own.png"><img src="/bounce-own"><img src="/bounce-img">
            <iframe src="/bounce-frame"></iframe>
            <iframe src="http://127.1:{v}/frame"></iframe>
            <img src="http://2130706433:{v}/img.png">
            <img src="http://[::ffff:127.0.0.1]:{v}/img6.png">
            <img src="http://169.254.169.254/latest/meta-data/">
            <script>
              fetch("http://0x7f000001:{v}/api").catch(() => null);
              fetch("/bounce-fetch").catch(() => null);
              var x = new XMLHttpRequest(); x.open("GET", "http://0177.0.0.1:{v}/xhr"); x.send();
              try {{ new WebSocket("ws://127.0.0.1:{v}/ws"); }} catch (e) {{}}
              document.body.insertAdjacentHTML("beforeend", '<img src="http://localhost:{v}/late.png">');
            </script>""")
        front.routes["/own.png"] = (200, {"Content-Type": "image/png"}, b"\x89PNG\r\n\x1a\n")
        registry = write_registry(tmp_path / "portals.csv", [
            {"id": "lab", "agency": "样例局", "url": front.url("/start"), "render": "js", "allow_private": "true"},
        ])
        result = run_crawl(tmp_path, registry)
    assert result.returncode == 0, result.stderr[-3000:]
    assert victim.log == [], [h.path for h in victim.log]
    assert front.hits("/own.png"), "the browser did not render the page"
    assert front.hits("/own-redirected.png"), "a redirect on the page's own host was not followed"
    assert "playwright/request_count/address_refused" in result.stderr
