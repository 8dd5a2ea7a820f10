"""Distributed mode: three workers on one Redis frontier crawl the sample portals as one process does.

A redis-server started here on a loopback port (skipped only when the binary is absent), the sample
portals, one single-process crawl for reference, then `nianbao seed` and three `nianbao worker`s, one
of them killed with SIGKILL mid-crawl and restarted after the others finished (its `.open` file is
repaired then). The merged catalog holds exactly the reference documents, no payload is stored twice,
and the sample server never had more than CONCURRENT_REQUESTS_PER_DOMAIN requests from the cluster
at once. The browser-rendered portal is left out: Chromium's own subrequests bypass the downloader.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from warc_support import ROOT, crawl_portals, read_warcs

from catalog import open_catalog
from nianbao.sample_portals.server import REGISTRY_ROWS, SamplePortals, peak_concurrency

ONLY = "sample-trs,sample-hanweb,sample-gbk,sample-robotsnav,sample-linkedjs,sample-emptylist,sample-nocolumn"
PER_HOST = 2
REDIS_SERVER = shutil.which("redis-server")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory):
    if REDIS_SERVER is None:
        pytest.skip("redis-server is not installed (scripts/setup.sh installs Debian's redis-server)")
    port = _free_port()
    work = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen([REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", str(work)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.1)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def _nianbao(*args: str, **kwargs) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "nianbao.cli", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)


def _worker(redis_url: str, data: Path, wid: str, *extra: str) -> subprocess.Popen:
    return _nianbao("worker", "--redis", redis_url, "--data", str(data), "--worker-id", wid, *extra,
                    "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=0", "-s", "TELNETCONSOLE_ENABLED=0",
                    "-s", f"CONCURRENT_REQUESTS_PER_DOMAIN={PER_HOST}", "-s", "CLUSTER_LEASE_SECONDS=4",
                    "-s", "CLUSTER_PORTALS_PER_WORKER=2",
                    "-s", "DOWNLOAD_TIMEOUT=20", "-s", "WARC_CATALOG_BATCH_SECONDS=30",
                    "-s", "WARC_CATALOG_BATCH_ROWS=1000")


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    # one server for both crawls: its pages name its ports, which a second crawl must find unchanged
    with SamplePortals(registry_path=tmp_path_factory.mktemp("sample") / "portals.csv") as portals:
        yield portals


@pytest.fixture(scope="module")
def cluster(redis_url, sample, tmp_path_factory) -> dict:
    work = tmp_path_factory.mktemp("cluster")
    portals = sample
    single = crawl_portals(portals.registry, work / "single", "-a", f"only={ONLY}")
    assert single.returncode == 0, single.stderr[-3000:]
    before = {host: len(portals.intervals(host)) for host in portals.base_urls}

    seed = _nianbao("seed", "--redis", redis_url, "--portals", str(portals.registry), "--only", ONLY)
    out, err = seed.communicate(timeout=60)
    assert seed.returncode == 0, err
    assert json.loads(out)["portals"] == len(ONLY.split(","))

    dirs = {wid: work / wid for wid in ("w1", "w2", "w3")}
    procs = {wid: _worker(redis_url, path, wid) for wid, path in dirs.items()}
    # the first worker caught mid-crawl (its open WARC file past 20 kB) is killed
    deadline = time.monotonic() + 240
    victim = None
    while time.monotonic() < deadline and victim is None:
        for wid, path in dirs.items():
            open_files = list((path / "warc").glob("*.warc.gz.open")) if (path / "warc").is_dir() else []
            if procs[wid].poll() is None and open_files and open_files[0].stat().st_size > 20_000:
                procs[wid].send_signal(signal.SIGKILL)
                victim = wid
                break
        if all(proc.poll() is not None for proc in procs.values()):
            break
        time.sleep(0.02)
    results = {wid: proc.communicate(timeout=300) for wid, proc in procs.items()}
    assert victim, "every worker finished before one could be killed"
    assert procs[victim].returncode == -signal.SIGKILL
    for wid in dirs:
        if wid != victim:
            assert procs[wid].returncode == 0, results[wid][1][-3000:]
    for wid, (_, log) in results.items():  # kept beside the data for a failure's post-mortem
        (work / f"{wid}.log").write_text(log, encoding="utf-8")
    left_open = list((dirs[victim] / "warc").glob("*.open"))
    # the killed worker comes back: repairs its file, lists what its catalog lacked, finds nothing left
    restart = _worker(redis_url, dirs[victim], victim)
    _, restart_err = restart.communicate(timeout=300)
    assert restart.returncode == 0, restart_err[-3000:]
    (work / f"{victim}.restart.log").write_text(restart_err, encoding="utf-8")

    by_host = {host: portals.intervals(host)[before[host]:] for host in portals.base_urls}
    intervals = [i for host in portals.base_urls for i in by_host[host]]
    status = _nianbao("status", "--redis", redis_url)
    status_out, err = status.communicate(timeout=60)
    assert status.returncode == 0, err

    merged = work / "merged"
    merge = _nianbao("catalog", "merge", "--data", str(merged), *map(str, dirs.values()))
    _, err = merge.communicate(timeout=300)
    assert merge.returncode == 0, err
    again = _nianbao("catalog", "merge", "--data", str(merged), *map(str, dirs.values()))
    again_out, err = again.communicate(timeout=300)
    assert again.returncode == 0, err
    return {"work": work, "single": work / "single", "merged": merged, "dirs": dirs, "intervals": intervals, "by_host": by_host,
            "victim": victim,
            "left_open": left_open, "restart_err": restart_err, "again": json.loads(again_out),
            "worker_logs": {wid: r[1] for wid, r in results.items()}, "status": json.loads(status_out)}


@pytest.fixture(scope="module")
def second_crawl(redis_url, sample, cluster) -> dict:
    """The same portals crawled again by two fresh workers, reading the first crawl's merged archive."""
    work = cluster["work"]
    seed = _nianbao("seed", "--redis", redis_url, "--portals", str(sample.registry), "--only", ONLY, "--reset")
    _, err = seed.communicate(timeout=60)
    assert seed.returncode == 0, err
    dirs = {wid: work / wid for wid in ("x1", "x2")}
    procs = {wid: _worker(redis_url, path, wid, "-s", f"CLUSTER_ARCHIVE_DIRS={cluster['merged']}")
             for wid, path in dirs.items()}
    for proc in procs.values():
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err[-3000:]
    merged = work / "merged2"
    merge = _nianbao("catalog", "merge", "--data", str(merged), *map(str, dirs.values()))
    _, err = merge.communicate(timeout=300)
    assert merge.returncode == 0, err
    stats: dict[str, int] = {}
    for path in dirs.values():
        for (raw,) in open_catalog(path / "catalog.db").execute("select stats from crawls"):
            for key, value in json.loads(raw or "{}").items():
                if key.startswith(("conditional/", "warc/")) and isinstance(value, int):
                    stats[key] = stats.get(key, 0) + value
    return {"merged": merged, "stats": stats}


def _documents(data: Path) -> set[tuple]:
    db = open_catalog(data / "catalog.db")
    # A report listed twice (a folded duplicate) gives its pages and attachment the date of whichever
    # listing was read first, which depends on crawl order, in one process as in several: dates are
    # left out.
    rows = db.execute("select sha256, portal_id, kind, title, year from documents d").fetchall()
    return {tuple(r) for r in rows}


def _document_urls(data: Path) -> set[tuple]:
    db = open_catalog(data / "catalog.db")
    return {tuple(r) for r in db.execute(
        "select d.sha256, u.url from document_urls u join documents d on d.id = u.document_id")}


def test_workers_find_exactly_what_one_process_finds(cluster) -> None:
    single, merged = _documents(cluster["single"]), _documents(cluster["merged"])
    reports = {r for r in single if r[2] in ("report_page", "attachment")}
    assert len(reports) >= 20
    assert merged == single
    assert _document_urls(cluster["merged"]) == _document_urls(cluster["single"])


def test_no_payload_is_stored_twice(cluster) -> None:
    records = read_warcs(cluster["merged"] / "warc")
    full = [r.h("WARC-Payload-Digest") for r in records
            if r.type == "response" and r.payload and not r.h("WARC-Truncated")]
    assert len(full) > 50
    assert len(full) == len(set(full))
    # every revisit points at a record the merged archive holds
    ids = {r.h("WARC-Record-ID") for r in records}
    assert all(r.h("WARC-Refers-To") in ids for r in records
               if r.type == "revisit" and r.h("WARC-Refers-To"))
    # each worker's files carry its id (a worker that got no portal wrote none)
    assert {r.file.rsplit("-", 1)[1].removesuffix(".warc.gz") for r in records} <= {"w1", "w2", "w3"}
    assert cluster["victim"] in {r.file.rsplit("-", 1)[1].removesuffix(".warc.gz") for r in records}


def test_per_host_concurrency_holds_across_the_cluster(cluster) -> None:
    intervals = cluster["intervals"]
    assert len(intervals) > 100
    peak, worst = peak_concurrency(intervals)
    assert peak <= PER_HOST, worst


def test_robots_txt_is_fetched_once_per_host(cluster) -> None:
    robots = [i for i in cluster["intervals"] if i[2] == "/robots.txt"]
    hosts = len(ONLY.split(",")) + 1  # and the file server the attachments come from
    # once more where the killed worker was the one fetching it (its lock expires, another fetches)
    assert 0 < len(robots) <= hosts + 1


def test_each_start_page_is_fetched_once_by_the_cluster(cluster) -> None:
    # every worker yields every start request; the first one schedules it (browser-rendered portals
    # are left out: Chromium fetches their pages again for the rendering). A start page the killed
    # worker had in flight is fetched once more, for at most the two portals it held.
    counts = {host: [i[2] for i in cluster["by_host"][host]].count(REGISTRY_ROWS[host][2])
              for host in ("trs", "hanweb", "gbk", "robotsnav", "nocolumn")}
    assert set(counts.values()) <= {1, 2}, counts
    assert list(counts.values()).count(2) <= 2, counts


def test_killed_worker_loses_nothing_and_its_file_is_repaired(cluster) -> None:
    assert cluster["left_open"], "the killed worker left its WARC file open"
    assert "repaired leftover WARC file" in cluster["restart_err"]
    assert not list((cluster["dirs"][cluster["victim"]] / "warc").glob("*.open"))
    # every record of every worker file is listed in the merged catalog
    records = read_warcs(cluster["merged"] / "warc")
    db = open_catalog(cluster["merged"] / "catalog.db")
    listed = {r[0] for r in db.execute("select record_id from captures")}
    assert {r.h("WARC-Record-ID") for r in records if r.type != "metadata"} == listed


def _diagnoses(data: Path) -> list[tuple]:
    db = open_catalog(data / "catalog.db")
    return sorted(tuple(r) for r in db.execute("select portal_id, status, reports from portal_diagnoses"))


def test_one_diagnosis_per_portal_agreeing_with_one_process(cluster) -> None:
    single = _diagnoses(cluster["single"])
    assert {status for _, status, _ in single} >= {"ok", "no_column"}
    # a list, not a set: a portal diagnosed by two workers would show twice
    assert _diagnoses(cluster["merged"]) == single


def test_status_shows_workers_and_each_portals_diagnosis(cluster) -> None:
    status = cluster["status"]
    assert status["queued"] == 0 and status["in_flight"] == 0
    single = {portal: (state, reports) for portal, state, reports in _diagnoses(cluster["single"])}
    shown = {portal: (p["diagnosis"]["status"], p["diagnosis"]["reports"]) for portal, p in status["portals"].items()}
    assert shown == single
    assert status["portals_done"] == len(single)
    assert {portal: p["reports"] for portal, p in status["portals"].items()} == {
        portal: reports for portal, (_, reports) in single.items()}
    progress = status["worker_progress"]
    assert set(progress) == {"w1", "w2", "w3"}
    assert all(w["closed"] and not w["alive"] for w in progress.values())
    # a restarted worker's progress is its new run's; the per-portal counters add up every run's pages
    assert sum(w["pages"] for w in progress.values()) > 0
    assert sum(p["pages"] for p in status["portals"].values()) >= sum(reports for _, reports in single.values())


def test_merge_is_idempotent(cluster) -> None:
    assert cluster["again"]["captures"] == 0 and cluster["again"]["documents"] == 0
    assert cluster["again"]["warc_files"] == 0


def test_a_second_crawl_on_fresh_workers_asks_conditionally_and_stores_no_payload(cluster, second_crawl) -> None:
    stats = second_crawl["stats"]
    # every document request carried validators another worker's capture left in Redis, and was
    # answered from the first crawl's archive
    assert stats.get("conditional/requests", 0) >= 20, stats
    assert stats.get("conditional/not_modified") == stats["conditional/requests"], stats
    assert stats.get("conditional/restored_from_archive") == stats["conditional/not_modified"], stats
    assert not stats.get("conditional/refetched"), stats
    assert _documents(second_crawl["merged"]) == _documents(cluster["single"])
    first = read_warcs(cluster["merged"] / "warc")
    second = read_warcs(second_crawl["merged"] / "warc")
    # a page the first crawl never fetched (discovery's order differs between crawls) is new; a
    # payload the first crawl stored is never stored again
    before = {r.h("WARC-Payload-Digest") for r in first if r.type == "response" and r.payload}
    again = [r.h("WARC-Target-URI") for r in second
             if r.type == "response" and r.payload and r.h("WARC-Payload-Digest") in before]
    assert again == [], "payloads the first crawl stored were stored again"
    revisits = [r for r in second if r.type == "revisit"]
    assert len(revisits) > 5 * len([r for r in second if r.type == "response" and r.payload])
    not_modified = [r for r in second if r.type == "revisit" and "server-not-modified" in (r.h("WARC-Profile") or "")]
    assert len(not_modified) == stats["conditional/not_modified"]
    # every revisit points at a record one of the two crawls stored
    ids = {r.h("WARC-Record-ID") for r in first + second}
    assert all(r.h("WARC-Refers-To") in ids for r in second if r.type == "revisit")
    assert _diagnoses(second_crawl["merged"]) == _diagnoses(cluster["single"])


def test_validators_in_redis_are_bounded_and_name_only_files(redis_url, tmp_path) -> None:
    from crawler.distributed import RedisDigestIndex, redis_client

    index = RedisDigestIndex(redis_client(redis_url), "bounds:digests", max_entries=2)
    headers = [("ETag", '"abc"'), ("Last-Modified", "Mon, 03 Mar 2025 00:00:00 GMT")]
    for n in range(3):
        index.remember_url(f"http://a.test/{n}", 200, headers, "response", (f"<urn:{n}>", "d", "sha1:X", "s"),
                           None, "f.warc.gz", 10 * n)
    assert index.lookup_url("http://a.test/1")[0] == "<urn:1>"
    assert index.lookup_url("http://a.test/2") is None  # past CLUSTER_VALIDATORS_MAX
    # an oversized validator is not kept, and drops what the URL had
    index.remember_url("http://a.test/0", 200, [("ETag", "x" * 5000)], "response", ("<urn:9>", "d", "sha1:Y", "t"),
                       None, "f.warc.gz", 0)
    assert index.lookup_url("http://a.test/0") is None
    # a 304 or a truncated capture leaves the entry as it was
    index.remember_url("http://a.test/1", 304, headers, "revisit", ("<urn:8>", "d", None, None), None, "g", 0)
    assert index.lookup_url("http://a.test/1")[0] == "<urn:1>"
    # validators are sent only when the record's file is readable, and a file name never becomes a path
    own, shared = tmp_path / "own", tmp_path / "shared"
    own.mkdir()
    shared.mkdir()
    assert index.previous_capture("http://a.test/1", [own, shared]) is None
    (shared / "f.warc.gz").write_bytes(b"")
    found = index.previous_capture("http://a.test/1", [own, shared])
    assert found["warc_file"] == str(shared / "f.warc.gz") and found["offset"] == 10
    assert found["etag"] == '"abc"' and found["record_id"] == "<urn:1>"
    index.server.hset(index.validators_key, "http://a.test/evil", json.dumps(
        {"etag": "e", "last_modified": None, "status": 200, "original": ["<urn:e>", "u", "d", "x", "s"],
         "location": ["../../etc/passwd", 0]}))
    assert index.previous_capture("http://a.test/evil", [own, shared]) is None
    for key in index.server.scan_iter("bounds:*"):
        index.server.delete(key)


def test_robots_txt_this_worker_fetched_is_not_replaced_by_the_clusters_copy(redis_url) -> None:
    # Another worker took the robots.txt lock and died; this worker's first request fetches it when the
    # lock's time is up, while a second request still polls the cluster. The copy it finds there must not
    # replace the Deferred the first request resolves (Scrapy asserts on it and drops the request).
    import asyncio

    import redis
    from scrapy import Request, signals
    from scrapy.http import TextResponse
    from scrapy.utils.test import get_crawler

    from crawler.robots import PortalRobotsTxtMiddleware

    prefix = "robots-race"
    crawler = get_crawler(settings_dict={"DISTRIBUTED": True, "REDIS_URL": redis_url, "REDIS_PREFIX": prefix,
                                         "DOWNLOAD_TIMEOUT": 0, "ROBOTSTXT_OBEY": True})
    middleware = PortalRobotsTxtMiddleware(crawler)
    redis.Redis.from_url(redis_url).set(f"{prefix}:robots:files.example:lock", b"dead-worker", ex=60)

    class Engine:
        async def download_async(self, request: Request) -> TextResponse:
            await asyncio.sleep(0.02)
            return TextResponse(request.url, body=b"User-agent: *\nDisallow: /private/\n")

    async def slow_subscriber(**kwargs) -> None:  # keeps the parse suspended while the other request polls
        await asyncio.sleep(0.2)

    crawler.engine = Engine()
    crawler.signals.connect(slow_subscriber, signal=signals.robots_parsed)

    async def two_requests() -> list:
        first = asyncio.ensure_future(middleware.robot_parser(Request("http://files.example/a.pdf")))
        await asyncio.sleep(0.1)
        second = asyncio.ensure_future(middleware.robot_parser(Request("http://files.example/b.pdf")))
        return await asyncio.gather(first, second)

    parsers = asyncio.run(two_requests())
    assert all(p is not None and not p.allowed("http://files.example/private/x.pdf", "*") for p in parsers)
    assert crawler.stats.get_value("robotstxt/request_count") == 1


def test_a_robots_txt_one_worker_fetched_is_read_by_the_others_from_the_cluster(redis_url) -> None:
    # two workers' middlewares on one cluster: the first fetches each host's robots.txt, the second never
    # does; a fetch that failed is shared too (everyone allows everything, as Scrapy does)
    import asyncio

    from scrapy import Request
    from scrapy.exceptions import IgnoreRequest
    from scrapy.http import TextResponse
    from scrapy.utils.test import get_crawler

    from crawler.robots import PortalRobotsTxtMiddleware

    prefix = "robots-shared"
    fetched: list[str] = []

    class Engine:
        async def download_async(self, request: Request) -> TextResponse:
            fetched.append(request.url)
            if "down.example" in request.url:
                raise ConnectionRefusedError("refused")
            return TextResponse(request.url, body=b"User-agent: *\nDisallow: /private/\n")

    def worker(wid: str) -> PortalRobotsTxtMiddleware:
        crawler = get_crawler(settings_dict={"DISTRIBUTED": True, "REDIS_URL": redis_url, "REDIS_PREFIX": prefix,
                                             "WORKER_ID": wid, "ROBOTSTXT_OBEY": True})
        crawler.engine = Engine()
        return PortalRobotsTxtMiddleware(crawler)

    first, second = worker("w1"), worker("w2")

    async def crawl() -> None:
        for middleware in (first, second):
            with pytest.raises(IgnoreRequest):
                await middleware.process_request(Request("http://up.example/private/a.html"))
            assert await middleware.process_request(Request("http://up.example/b.html")) is None
            assert await middleware.process_request(Request("http://down.example/private/a.html")) is None

    asyncio.run(crawl())
    assert fetched == ["http://up.example/robots.txt", "http://down.example/robots.txt"]
    assert second.crawler.stats.get_value("robotstxt/from_cluster") == 2
    assert second.crawler.stats.get_value("robotstxt/request_count") is None
    first.shared.server.delete(*first.shared.server.keys(f"{prefix}:*"))


def test_a_host_slot_this_worker_releases_goes_to_its_waiting_request_at_once(redis_url) -> None:
    # One connection per host for the cluster. A request waiting for a held slot backs off up to 160 ms
    # between asks; when the holder is this worker's own request (a portal's requests are leased to one
    # worker), the next one must start as the slot is given back, not a back-off later.
    import asyncio

    from scrapy import Request
    from scrapy.http import Response
    from scrapy.utils.test import get_crawler

    from crawler.distributed import ClusterHostSlotMiddleware

    crawler = get_crawler(settings_dict={"DISTRIBUTED": True, "REDIS_URL": redis_url, "REDIS_PREFIX": "slot-handoff",
                                         "CONCURRENT_REQUESTS_PER_DOMAIN": 1, "DOWNLOAD_DELAY": 0})
    crawler.stats.open_spider()
    middleware = ClusterHostSlotMiddleware(crawler)
    hold_s, rounds = 0.4, 5

    async def hand_offs() -> list[float]:
        delays = []
        holder = Request("http://slow.example/0.html")
        await middleware.process_request(holder)
        for n in range(1, rounds + 1):
            waiter = Request(f"http://slow.example/{n}.html")
            acquired = asyncio.ensure_future(middleware.process_request(waiter))
            await asyncio.sleep(hold_s)  # long enough for the waiter's back-off to reach its longest
            assert not acquired.done()  # the slot is held: one connection for the cluster
            released_at = time.monotonic()
            middleware.process_response(holder, Response(holder.url))
            await acquired
            delays.append(time.monotonic() - released_at)
            holder = waiter
        middleware.process_response(holder, Response(holder.url))
        return delays

    delays = asyncio.run(hand_offs())
    # a back-off wake-up lands anywhere in 0-160 ms; five in a row under 50 ms is the release's doing
    assert max(delays) < 0.05, delays
