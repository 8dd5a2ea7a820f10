"""Distributed mode: any number of `scrapy crawl portals` workers on one frontier in Redis.

Switched on by `DISTRIBUTED = True` and `REDIS_URL`; without them nothing here is used and no Redis is
needed. Built on scrapy-redis (its request serialisation, priority queue and fingerprint dupefilter),
with what a polite, crash-safe cluster needs on top:

- **portal-sharded queues with leases** (`SharedFrontierScheduler`): each portal's requests wait in
  their own queue; a worker owns a portal while its lease lives (renewed by the worker's heartbeat), so
  a portal's discovery state, budgets and diagnosis stay in one spider. A request handed to the spider
  is kept in the portal's in-flight hash until its callback's output has been scheduled
  (`InFlightMiddleware`); a worker that dies loses its leases, and the next owner puts the portal's
  in-flight requests back into the queue (nothing is lost; a few pages may be fetched twice);
- **per-host politeness across the cluster** (`ClusterHostSlotMiddleware`): at most
  CONCURRENT_REQUESTS_PER_DOMAIN requests to one host at once, and DOWNLOAD_DELAY between them, for all
  workers together (a leased semaphore and a next-allowed time in Redis);
- **robots.txt once per host per crawl** (`ClusterRobotsTxt`, asked by the robots middleware of
  crawler/robots.py): the first worker fetches it, the others read the body from Redis;
- **one payload stored once** (`RedisDigestIndex`): the archive's revisit dedup asks the cluster.

Keys live under `REDIS_PREFIX` (default `nianbao`); `nianbao seed` puts the registry there and
`nianbao seed --reset` clears a finished crawl's frontier.
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import os
import pickle
import socket
import time
import uuid
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request, signals
from scrapy.exceptions import DontCloseSpider, NotConfigured

from crawler.robots import RobotsTxtCopy

logger = logging.getLogger(__name__)

START_HOPS = 0  # an older spider marked a portal's start request with meta["hops"] == 0
# keys that outlive a crawl (`nianbao seed --reset` keeps them): the archive's payloads and validators
ARCHIVE_KEYS = ("digests", "validators", "records")


class SeedError(Exception):
    """Bad input to `nianbao seed` (registry or Redis unreachable): the message names it."""


def is_start_request(request: Request) -> bool:
    """A portal's start request as spiders/portals.py yields it (every worker yields every one).

    Its meta: link depth 0, the registry URL's own candidate (tier -1), no referer; a retry, a
    redirect or a re-render of the start page is an ordinary request.
    """
    meta = request.meta
    if meta.get("retry_times") or meta.get("redirect_times") or not request.dont_filter:
        return False
    if meta.get("hops") == START_HOPS:
        return True
    return (meta.get("link_depth") == 0 and "referer_url" not in meta and "render_reason" not in meta
            and (meta.get("candidate") or {}).get("tier") == -1)


def distributed_enabled(settings: Any) -> bool:
    """True when the settings ask for the shared Redis frontier."""
    return bool(settings.getbool("DISTRIBUTED", False) and settings.get("REDIS_URL"))


def redis_client(url: str) -> Any:
    """A Redis client for url (scrapy-redis's own client class)."""
    import redis

    return redis.StrictRedis.from_url(url)


def worker_id(settings: Any) -> str:
    """This worker's id: WORKER_ID, else host and process id (also the last part of its WARC names)."""
    return settings.get("WORKER_ID") or f"{socket.gethostname()}_{os.getpid()}"


# Every Redis key of a cluster is PREFIX:<pattern>, `{}` standing for the portal, worker or host it is of.
# A running cluster (and what `nianbao seed` wrote) holds these names: changing one strands its data.
KEY_PATTERNS: dict[str, str] = {
    # the crawl: what `nianbao seed` put there, and the frontier
    "registry": "registry", "only": "only", "crawl": "crawl",
    "portals": "portals", "starts": "starts", "dupefilter": "dupefilter",
    # per portal
    "queue": "queue:{}", "inflight": "inflight:{}", "owner": "owner:{}", "state": "state:{}",
    "counters": "counters:{}", "finished": "finished:{}", "diagnosed": "diagnosed:{}",
    "diagnosis": "diagnosis:{}",
    # per worker
    "worker": "worker:{}", "progress": "progress:{}",
    # per host
    "slots": "slots:{}", "next_at": "next_at:{}", "robots": "robots:{}", "robots_lock": "robots:{}:lock",
    # the archive (ARCHIVE_KEYS)
    "digests": "digests", "validators": "validators", "records": "records",
}


class Keys:
    """The Redis key names of one cluster (KEY_PATTERNS under its prefix)."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def key(self, kind: str, name: str | None = None) -> str:
        """The key of `kind` (a KEY_PATTERNS name), of `name` when the kind is per portal, worker or host."""
        pattern = KEY_PATTERNS[kind]
        if ("{}" in pattern) != (name is not None):
            raise ValueError(f"Redis key {kind!r} {'needs' if name is None else 'takes no'} name")
        return f"{self.prefix}:{pattern.format(name)}"


def portal_state(spider: Any, portal: str) -> dict:
    """The spider's in-memory state of one portal: its discovery search, budget use, renders."""
    state: dict[str, Any] = {}
    discovery = getattr(spider, "discoveries", {}).get(portal)
    if discovery is not None:
        state["discovery"] = discovery
    usage = getattr(getattr(spider, "budgets", None), "usage", {}).get(portal)
    if usage is not None:
        usage = copy.copy(usage)
        # a monotonic clock means nothing on another machine: keep the time spent instead
        state["elapsed"] = time.monotonic() - usage.started if usage.started is not None else None
        state["usage"] = usage
    renders = getattr(spider, "_discovery_renders", {}).get(portal)
    if renders:
        state["renders"] = renders
    return state


# the per-portal crawl stats a diagnosis rests on (crawler/diagnosis.py), summed over the workers
PORTAL_COUNTERS = ("pages", "reports", "errors", "report_documents", "blocked")


def portal_counters(stats: Any, portal: str) -> dict[str, int]:
    """This worker's counters of one portal, from its crawl stats."""
    return {what: int(stats.get_value(f"portal/{portal}/{what}", 0) or 0) for what in PORTAL_COUNTERS}


def restore_portal_state(spider: Any, portal: str, state: dict) -> None:
    """Put a portal's state saved by another worker into this spider."""
    if "discovery" in state and hasattr(spider, "discoveries"):
        spider.discoveries[portal] = state["discovery"]
    if "usage" in state and hasattr(spider, "budgets"):
        usage = state["usage"]
        if state.get("elapsed") is not None:
            usage.started = time.monotonic() - state["elapsed"]
        spider.budgets.usage[portal] = usage
    if "renders" in state and hasattr(spider, "_discovery_renders"):
        spider._discovery_renders[portal] = state["renders"]


def _keys(settings: Any) -> Keys:
    return Keys(settings.get("REDIS_PREFIX", "nianbao"))


# --------------------------------------------------------------------------- seeding


def seed_frontier(url: str, portals_file: str | Path, only: str | None = None, reset: bool = False,
                  prefix: str = "nianbao") -> dict[str, Any]:
    """Put a registry into Redis for the workers (`nianbao seed`); returns what was seeded.

    Workers read the registry from Redis (`nianbao worker` writes it to their DATA_DIR), so every
    worker knows every portal; each portal's start request is scheduled by whichever worker starts
    first. `reset` forgets the previous crawl (queues, fingerprints, leases, robots.txt cache).
    """
    from crawler.registry import RegistryFileError, load_registry

    try:
        registry = load_registry(portals_file)
    except (OSError, RegistryFileError) as exc:
        raise SeedError(f"{portals_file}: {exc}") from exc
    selected, unknown = registry.select(only)
    if unknown:
        raise SeedError(f"{portals_file}: no portal with id {', '.join(unknown)}")
    server = redis_client(url)
    keys = Keys(prefix)
    try:
        if reset:
            # the archive's digests and validators stay: the next crawl revisits what this one stored
            keep = {keys.key(kind).encode() for kind in ARCHIVE_KEYS}
            for key in server.scan_iter(f"{prefix}:*"):
                if key not in keep:
                    server.delete(key)
        text = Path(portals_file).read_text(encoding="utf-8")
        server.set(keys.key("registry"), text.encode("utf-8"))
        server.set(keys.key("only"), ",".join(p.id for p in selected).encode("utf-8"))
        server.setnx(keys.key("crawl"), time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()).encode("ascii"))
    except Exception as exc:  # redis.ConnectionError and friends, without importing redis at top
        raise SeedError(f"{url}: {exc}") from exc
    return {"redis": url, "portals": len(selected), "bad_rows": len(registry.errors), "reset": reset,
            "crawl": server.get(keys.key("crawl")).decode("ascii")}


def fetch_registry(url: str, target: Path, prefix: str = "nianbao") -> tuple[Path, str]:
    """Write the seeded registry to target; returns it and the seeded `only` list."""
    server = redis_client(url)
    keys = Keys(prefix)
    text = server.get(keys.key("registry"))
    if text is None:
        raise SeedError(f"{url}: no registry seeded (run nianbao seed --redis {url} first)")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(text)
    return target, (server.get(keys.key("only")) or b"").decode("utf-8")


# --------------------------------------------------------------------------- scheduler


# a request moves from a portal's queue to its in-flight hash in one step, so the cluster never looks
# empty while a worker holds it
_POP_TO_INFLIGHT = """
local found = redis.call('zrange', KEYS[1], 0, 0)
if #found == 0 then return false end
redis.call('zremrangebyrank', KEYS[1], 0, 0)
redis.call('hset', KEYS[2], ARGV[1], found[1])
return found[1]
"""
# fingerprint and queue entry in one step: a worker killed in between never leaves a request that is
# "seen" but queued nowhere
_SEEN_OR_PUSH = """
if redis.call('sadd', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('zadd', KEYS[2], ARGV[2], ARGV[3])
redis.call('sadd', KEYS[3], ARGV[4])
return 1
"""
_RELEASE_IF_OWNER = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""
_RENEW_IF_OWNER = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('expire', KEYS[1], ARGV[2]) end
return 0
"""


class SharedFrontierScheduler:
    """The scheduler of a distributed worker: portal-sharded Redis queues with leased ownership."""

    def __init__(self, crawler: Any) -> None:
        from scrapy_redis import picklecompat
        from scrapy_redis.dupefilter import RFPDupeFilter

        settings = crawler.settings
        self.crawler = crawler
        self.stats = crawler.stats
        self.server = redis_client(settings.get("REDIS_URL"))
        self.keys = _keys(settings)
        self.worker = worker_id(settings)
        self.lease = settings.getint("CLUSTER_LEASE_SECONDS", 15)
        self.max_portals = settings.getint("CLUSTER_PORTALS_PER_WORKER", 8)
        self.df = RFPDupeFilter(self.server, key=self.keys.key("dupefilter"),
                                debug=settings.getbool("DUPEFILTER_DEBUG"))
        self.serializer = picklecompat
        self._pop = self.server.register_script(_POP_TO_INFLIGHT)
        self._seen_or_push = self.server.register_script(_SEEN_OR_PUSH)
        # a finished request leaves the in-flight hash this long after its callback's output was handed
        # on, so the requests it yielded are surely scheduled first (a kill in between only refetches)
        self.release_delay = settings.getfloat("CLUSTER_RELEASE_DELAY", 2.0)
        self.owned: list[str] = []
        # one field per worker run in a portal's counters hash: a restarted worker starts from zero
        self.run = f"{self.worker}/{uuid.uuid4().hex[:8]}"
        self.touched: set[str] = set()
        self._progress: dict[str, Any] = {}
        self._releases: dict[str, tuple] = {}  # token -> (the delayed call releasing it, its arguments)
        self._queues: dict[str, Any] = {}
        self._heartbeat: Any = None
        self._turn = 0
        self._claimed_at = 0.0
        self.spider: Any = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> SharedFrontierScheduler:
        return cls(crawler)

    # -- life cycle

    def open(self, spider: Any) -> None:
        from twisted.internet import task

        self.spider = spider
        spider.cluster = self  # InFlightMiddleware finds the scheduler here
        self.server.ping()
        self._beat()
        self._heartbeat = task.LoopingCall(self._beat)
        self._heartbeat.start(max(1.0, self.lease / 3), now=False)
        self.crawler.signals.connect(self._idle, signal=signals.spider_idle)
        self.crawler.signals.connect(self._closed, signal=signals.spider_closed)
        logger.info("worker %s on the shared frontier %s (%s)", self.worker, self.crawler.settings.get("REDIS_URL"),
                    self.keys.prefix)

    def close(self, reason: str) -> None:
        if self._heartbeat is not None and self._heartbeat.running:
            self._heartbeat.stop()
        # releases still waiting on the clock happen now, in order: fired after the final state and
        # counters below, they would overwrite them with older ones
        for call, request, snapshot in list(self._releases.values()):
            if call.active():
                call.cancel()
                self._release(request, snapshot)
        self._releases.clear()
        # The cluster's last word on every portal, so this worker's closing diagnoses agree with it
        # (scheduler.close runs before spider_closed, where diagnoses are written).
        for portal in self.owned:
            if not self.server.zcard(self.keys.key("queue", portal)) and not self.server.hlen(self.keys.key("inflight", portal)):
                self.server.set(self.keys.key("finished", portal), self.run.encode())
            # a worker stopped before its portals were done hands them back whole
            self._requeue_inflight(portal)
            self.server.eval(_RELEASE_IF_OWNER, 1, self.keys.key("owner", portal), self.worker)
        self.owned = []
        # Every callback of this worker has run: its counters are final, and its state of the portals
        # it finished is the newest there is.
        for portal in self.touched:
            pipe = self.server.pipeline()
            pipe.hset(self.keys.key("counters", portal), self.run, json.dumps(portal_counters(self.stats, portal)).encode())
            if self._finisher(portal) == self.run:
                pipe.set(self.keys.key("state", portal), pickle.dumps(portal_state(self.spider, portal)))
            pipe.execute()
        for raw in self.server.smembers(self.keys.key("portals")):
            portal = raw.decode("utf-8")
            saved = self.server.get(self.keys.key("state", portal))
            if saved is not None and self._finisher(portal) != self.run:
                restore_portal_state(self.spider, portal, pickle.loads(saved))

    def _closed(self, spider: Any = None) -> None:
        # after the closing diagnoses (extensions connect to spider_closed before the scheduler opens):
        # until then other workers see this one alive and leave the portals it finished to it
        self._report_progress(final=True)
        self.server.delete(self.keys.key("worker", self.worker))

    def _alive(self, run: str) -> bool:
        # a worker restarted under the same id is another run: what the dead run finished is orphaned
        return self.server.get(self.keys.key("worker", run.rsplit("/", 1)[0])) == run.encode()

    def _finisher(self, portal: str) -> str | None:
        found = self.server.get(self.keys.key("finished", portal))
        return found.decode("utf-8") if found is not None else None

    def _beat(self) -> None:
        self.server.set(self.keys.key("worker", self.worker), self.run.encode(), ex=self.lease)
        self._report_progress()
        lost = [p for p in self.owned
                if not self.server.eval(_RENEW_IF_OWNER, 1, self.keys.key("owner", p), self.worker, self.lease)]
        for portal in lost:  # a stalled worker whose lease ran out: another owns the portal now
            logger.warning("lease on portal %s lost to another worker", portal)
            self.owned.remove(portal)

    def _report_progress(self, final: bool = False) -> None:
        # what `nianbao status` shows per worker: pages so far and the rate since the last heartbeat
        now = time.time()
        pages = int(self.stats.get_value("response_received_count", 0) or 0)
        last = self._progress
        rate = (pages - last["pages"]) / (now - last["at"]) if last and now > last["at"] else 0.0
        self._progress = {"run": self.run, "pages": pages, "at": now,
                          "items": int(self.stats.get_value("item_scraped_count", 0) or 0),
                          "pages_per_s": round(rate, 2), "portals": list(self.owned),
                          "started": self._progress.get("started", now) if last else now, "closed": final}
        # kept a day after the worker stops, so a finished crawl still shows who did what
        self.server.set(self.keys.key("progress", self.worker), json.dumps(self._progress).encode(), ex=86400)

    # -- queues

    def _queue(self, portal: str) -> Any:
        from scrapy_redis.queue import PriorityQueue

        if portal not in self._queues:
            self._queues[portal] = PriorityQueue(self.server, self.spider, self.keys.key("queue", portal),
                                                 self.serializer)
        return self._queues[portal]

    def __len__(self) -> int:
        return sum(len(self._queue(p)) for p in self.owned)

    def has_pending_requests(self) -> bool:
        # portals not yet owned are claimed by next_request, which the engine calls on every heartbeat
        return len(self) > 0

    def enqueue_request(self, request: Request) -> bool:
        meta = request.meta
        portal = meta.get("portal_id") or "_"
        queue = self._queue(portal)
        if is_start_request(request):
            # every worker yields every start request; the first one to get here schedules it
            seen_key = self.keys.key("starts")
        elif not request.dont_filter:
            seen_key = self.df.key
        else:
            seen_key = None
        if seen_key is None:
            queue.push(request)
            self.server.sadd(self.keys.key("portals"), portal)
        elif not self._seen_or_push(keys=[seen_key, queue.key, self.keys.key("portals")],
                                    args=[self.df.request_fingerprint(request), -request.priority,
                                          queue._encode_request(request), portal]):
            if seen_key == self.df.key:
                self.df.log(request, self.spider)
            return False
        self.stats.inc_value("scheduler/enqueued/redis")
        return True

    def next_request(self) -> Request | None:
        if len(self.owned) < self.max_portals and time.monotonic() - self._claimed_at > 0.5:
            # at most twice a second: a claim scans the cluster's portals
            self._claimed_at = time.monotonic()
            self._claim_more()
        for _ in range(len(self.owned)):
            portal = self.owned[self._turn % len(self.owned)]
            self._turn += 1
            request = self._pop_tracked(portal)
            if request is not None:
                return request
        self._drop_finished()
        return None

    # -- ownership

    def _claim_more(self) -> None:
        for raw in self.server.smembers(self.keys.key("portals")):
            if len(self.owned) >= self.max_portals:
                return
            portal = raw.decode("utf-8")
            if portal in self.owned or self.server.exists(self.keys.key("owner", portal)):
                continue
            if self.server.zcard(self.keys.key("queue", portal)) or self.server.hlen(self.keys.key("inflight", portal)):
                self._claim(portal)

    def _claim(self, portal: str) -> bool:
        if not self.server.set(self.keys.key("owner", portal), self.worker.encode(), ex=self.lease, nx=True):
            return False
        self.owned.append(portal)
        saved = self.server.get(self.keys.key("state", portal))
        if saved is not None:
            # the portal's discovery and budgets continue where its last owner left them
            restore_portal_state(self.spider, portal, pickle.loads(saved))
        requeued = self._requeue_inflight(portal)
        if requeued:
            logger.warning("portal %s taken over: %d requests of a stopped worker back in its queue",
                           portal, requeued)
            self.stats.inc_value("cluster/requeued", requeued)
        self.stats.inc_value("cluster/portals_claimed")
        return True

    def _requeue_inflight(self, portal: str) -> int:
        entries = self.server.hgetall(self.keys.key("inflight", portal))
        for data in entries.values():
            request = self._queue(portal)._decode_request(data)
            self._queue(portal).push(request)
        if entries:
            self.server.hdel(self.keys.key("inflight", portal), *entries.keys())
        return len(entries)

    def _drop_finished(self) -> None:
        # a portal with nothing queued and nothing in flight is let go, so other portals get a turn
        for portal in list(self.owned):
            if not self.server.zcard(self.keys.key("queue", portal)) and not self.server.hlen(self.keys.key("inflight", portal)):
                self.owned.remove(portal)
                self.server.set(self.keys.key("finished", portal), self.run.encode())
                self.server.eval(_RELEASE_IF_OWNER, 1, self.keys.key("owner", portal), self.worker)

    # -- in flight

    def _pop_tracked(self, portal: str) -> Request | None:
        token = uuid.uuid4().hex
        data = self._pop(keys=[self.keys.key("queue", portal), self.keys.key("inflight", portal)], args=[token])
        if not data:
            return None
        request = self._queue(portal)._decode_request(data)
        request.meta["cluster_token"] = token
        request.meta["cluster_portal"] = portal
        return request

    def done(self, request: Request | None) -> None:
        """A request's output is handed on: it leaves the in-flight hash (after CLUSTER_RELEASE_DELAY)."""
        if request is None:
            return
        portal = request.meta.get("cluster_portal")
        snapshot = None
        if portal and request.meta.get("cluster_token"):
            # The portal's state and counters are taken now and written when the request leaves the
            # in-flight hash: a request still in flight when this worker dies is fetched again by the
            # next owner, who then finds the state (and counts) of every request before it, none after.
            snapshot = (pickle.dumps(portal_state(self.spider, portal)),
                        json.dumps(portal_counters(self.stats, portal)).encode())
            self.touched.add(portal)
        if self.release_delay > 0:
            from twisted.internet import reactor

            call = reactor.callLater(self.release_delay, self._release, request, snapshot)
            if snapshot is not None:
                self._releases[request.meta["cluster_token"]] = (call, request, snapshot)
        else:
            self._release(request, snapshot)

    def _release(self, request: Request, snapshot: tuple[bytes, bytes] | None = None) -> None:
        token, portal = request.meta.get("cluster_token"), request.meta.get("cluster_portal")
        self._releases.pop(token, None)
        if token and portal and snapshot is not None:
            state, counters = snapshot
            pipe = self.server.pipeline()
            pipe.set(self.keys.key("state", portal), state)
            pipe.hset(self.keys.key("counters", portal), self.run, counters)
            pipe.hdel(self.keys.key("inflight", portal), token)
            pipe.execute()

    # -- one diagnosis per portal (crawler/diagnosis.py asks these at the end of the crawl)

    def diagnoses(self, portal: str) -> bool:
        """Whether this worker writes the portal's closing diagnosis: exactly one worker of the cluster does.

        The worker that finished the portal (its queue and in-flight hash emptied under its lease, or
        still holding it as it closes) does; when that worker is gone (killed, its heartbeat expired)
        or none finished it, the first worker to close does. Either way the claim is taken once per
        crawl in Redis. A worker whose heartbeat still lives when the others close, and which never
        closes, leaves its portals undiagnosed.
        """
        finisher = self._finisher(portal)
        if finisher is not None and finisher != self.run and self._alive(finisher):
            return False
        owner = self.server.get(self.keys.key("owner", portal))
        if finisher is None and owner is not None and owner.decode("utf-8") != self.worker \
                and self.server.exists(self.keys.key("worker", owner.decode("utf-8"))):
            return False  # its owner is alive and marks it finished as it closes
        return bool(self.server.set(self.keys.key("diagnosed", portal), self.worker.encode(), nx=True))

    def record_diagnosis(self, diagnosis: dict) -> None:
        """Publish a portal's closing diagnosis for `nianbao status`."""
        shown = {k: diagnosis.get(k) for k in ("status", "reports", "errors", "reason")}
        self.server.set(self.keys.key("diagnosis", diagnosis["portal_id"]),
                        json.dumps({**shown, "by": self.worker}, ensure_ascii=False).encode("utf-8"))

    def portal_counters(self, portal: str) -> dict[str, int]:
        """The portal's counters summed over every worker run that crawled it (blocked: any of them)."""
        total = dict.fromkeys(PORTAL_COUNTERS, 0)
        for raw in self.server.hvals(self.keys.key("counters", portal)):
            for what, value in json.loads(raw).items():
                if what in total:
                    total[what] = max(total[what], value) if what == "blocked" else total[what] + value
        return total

    def _cluster_busy(self) -> bool:
        for raw in self.server.smembers(self.keys.key("portals")):
            portal = raw.decode("utf-8")
            if self.server.zcard(self.keys.key("queue", portal)) or self.server.hlen(self.keys.key("inflight", portal)):
                return True
        return False

    def _idle(self, spider: Any) -> None:
        # Idle means nothing of ours is downloading or in a callback, so what our portals still list
        # as in flight is stale (a retried request's first copy, a failure no callback saw).
        for portal in self.owned:
            self.server.delete(self.keys.key("inflight", portal))
        # other workers may still add requests, or die and leave theirs: stay until the cluster is done
        if self._cluster_busy():
            raise DontCloseSpider("the shared frontier still has work")


class InFlightMiddleware:
    """Spider middleware: a request leaves the in-flight hash once its callback's output is scheduled."""

    def __init__(self, crawler: Any) -> None:
        if not distributed_enabled(crawler.settings):
            raise NotConfigured("not distributed")
        self.crawler = crawler
        crawler.signals.connect(self._finished, signal=signals.request_dropped)

    @classmethod
    def from_crawler(cls, crawler: Any) -> InFlightMiddleware:
        return cls(crawler)

    def _cluster(self) -> Any:
        return getattr(self.crawler.spider, "cluster", None)

    def _finished(self, request: Request, spider: Any = None) -> None:
        cluster = self._cluster()
        if cluster is not None:
            cluster.done(request)

    async def process_spider_output_async(self, response: Any, result: AsyncIterator[Any],
                                          spider: Any = None) -> AsyncIterator[Any]:
        async for value in result:
            yield value
        self._finished(response.request)

    def process_spider_output(self, response: Any, result: Iterable[Any], spider: Any = None) -> Iterable[Any]:
        yield from result
        self._finished(response.request)

    def process_spider_exception(self, response: Any, exception: BaseException, spider: Any = None) -> None:
        self._finished(response.request)


# --------------------------------------------------------------------------- politeness


# Returns 0 when a slot was taken; otherwise how many ms to wait before asking again: the rest of the
# host's delay, or -1 when all its slots are held (the caller backs off).
_ACQUIRE_SLOT = """
local now = tonumber(ARGV[1])
redis.call('zremrangebyscore', KEYS[1], '-inf', now)
if redis.call('zcard', KEYS[1]) >= tonumber(ARGV[2]) then return -1 end
local next_at = tonumber(redis.call('get', KEYS[2]) or '0')
if next_at > now then return math.ceil((next_at - now) * 1000) end
redis.call('zadd', KEYS[1], now + tonumber(ARGV[3]), ARGV[4])
redis.call('set', KEYS[2], tostring(now + tonumber(ARGV[5])), 'EX', 3600)
return 0
"""
# a request waiting for a held slot asks again after 10 ms, doubling up to this
_SLOT_POLL_MAX = 0.16


class ClusterHostSlotMiddleware:
    """Downloader middleware (outermost): per-host concurrency and delay held for all workers together.

    A request waits here until fewer than CONCURRENT_REQUESTS_PER_DOMAIN requests of the cluster are
    at its host (a semaphore of leased tokens in Redis; a dead worker's tokens expire) and DOWNLOAD_DELAY
    has passed since the cluster's last request to it. It sleeps out the delay in one step, and asks
    again for a held slot with a doubling back-off (10 ms to 160 ms), not in a tight loop; when this
    worker itself gives a host's slot back, its requests waiting for that host ask again at once (a
    portal's requests are leased to one worker, so that is the usual case: the back-off had left a
    slow host idle for tens of milliseconds after each response). The host is the download slot
    Scrapy would use.
    """

    def __init__(self, crawler: Any) -> None:
        settings = crawler.settings
        if not distributed_enabled(settings):
            raise NotConfigured("not distributed")
        self.server = redis_client(settings.get("REDIS_URL"))
        self.keys = _keys(settings)
        self.per_host = max(1, settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN", 2))
        self.delay = settings.getfloat("DOWNLOAD_DELAY", 0.0)
        self.lease = settings.getint("DOWNLOAD_TIMEOUT", 60) + 30
        self.script = self.server.register_script(_ACQUIRE_SLOT)
        self.stats = crawler.stats
        self._released: dict[str, asyncio.Event] = {}  # host -> set when this worker gives a slot back

    @classmethod
    def from_crawler(cls, crawler: Any) -> ClusterHostSlotMiddleware:
        return cls(crawler)

    def _host(self, request: Request) -> str:
        return request.meta.get("download_slot") or urlsplit(request.url).hostname or ""

    async def process_request(self, request: Request, spider: Any = None) -> None:
        host = self._host(request)
        token = uuid.uuid4().hex
        waited, backoff = 0.0, 0.01
        while True:
            answer = self.script(keys=[self.keys.key("slots", host), self.keys.key("next_at", host)],
                                 args=[time.time(), self.per_host, self.lease, token, self.delay])
            if answer == 0:
                break
            started = time.monotonic()
            if answer > 0:  # the host's delay has this long to run
                await asyncio.sleep(answer / 1000)
            else:
                # held: ask again after the back-off, or as soon as this worker releases the host
                released = self._released.setdefault(host, asyncio.Event())
                try:
                    await asyncio.wait_for(released.wait(), backoff)
                except TimeoutError:
                    backoff = min(backoff * 2, _SLOT_POLL_MAX)
            waited += time.monotonic() - started
        if waited:
            self.stats.inc_value("cluster/slot_wait_ms", int(waited * 1000))
        request.meta["cluster_slot"] = (host, token)

    def _release(self, request: Request) -> None:
        slot = request.meta.pop("cluster_slot", None)
        if slot:
            self.server.zrem(self.keys.key("slots", slot[0]), slot[1])
            released = self._released.pop(slot[0], None)
            if released is not None:
                released.set()  # this worker's waiters for the host ask again now

    def process_response(self, request: Request, response: Any, spider: Any = None) -> Any:
        self._release(request)
        return response

    def process_exception(self, request: Request, exception: BaseException, spider: Any = None) -> None:
        self._release(request)
        return None


class ClusterRobotsTxt:
    """robots.txt once per host per crawl for the whole cluster: the robots middleware's sharing part.

    The robots middleware (crawler/robots.py) asks `before_fetch` for a host's robots.txt before it
    fetches it and tells `after_fetch` what it got. The first worker to ask takes the host's lock and
    fetches; the others wait for its copy (`PREFIX:robots:<host>`: ``=`` and the body, or ``!error``
    when the fetch failed) and never fetch. A worker killed while fetching holds the lock
    DOWNLOAD_TIMEOUT + 10 s; then the next worker to ask fetches.
    """

    def __init__(self, server: Any, keys: Keys, worker: str, lock_seconds: int) -> None:
        self.server = server
        self.keys = keys
        self.worker = worker
        self.lock_seconds = lock_seconds

    async def before_fetch(self, netloc: str) -> RobotsTxtCopy | None:
        """The cluster's copy of netloc's robots.txt (waiting while another worker fetches it), or None:
        this worker fetches it (it holds the lock now, or the lock's holder took too long)."""
        key = self.keys.key("robots", netloc)
        deadline = time.monotonic() + self.lock_seconds
        while True:
            cached = self.server.get(key)
            if cached is not None:
                return RobotsTxtCopy(None if cached.startswith(b"!") else cached[1:])
            if self.server.set(self.keys.key("robots_lock", netloc), self.worker.encode(), ex=self.lock_seconds,
                               nx=True):
                return None
            if time.monotonic() > deadline:
                return None
            await asyncio.sleep(0.05)

    def after_fetch(self, netloc: str, body: bytes | None) -> None:
        """Give the cluster this worker's robots.txt of netloc: its body, or None when the fetch failed
        (a failure never overwrites a body another worker stored)."""
        key = self.keys.key("robots", netloc)
        if body is None:
            self.server.set(key, b"!error", nx=True)
        else:
            self.server.set(key, b"=" + body)


def cluster_robots_txt(settings: Any) -> ClusterRobotsTxt | None:
    """The cluster's robots.txt sharing, or None when the crawl runs alone."""
    if not distributed_enabled(settings):
        return None
    return ClusterRobotsTxt(redis_client(settings.get("REDIS_URL")), _keys(settings), worker_id(settings),
                            settings.getint("DOWNLOAD_TIMEOUT", 60) + 10)


# --------------------------------------------------------------------------- archive


# bounds on what one URL puts into Redis
_URL_MAX = 2048
_VALIDATOR_MAX = 256


# a field is set when it exists already or the hash is below its bound (ARGV[3] fields)
_HSET_BOUNDED = """
if redis.call('hexists', KEYS[1], ARGV[1]) == 1 or redis.call('hlen', KEYS[1]) < tonumber(ARGV[3]) then
  redis.call('hset', KEYS[1], ARGV[1], ARGV[2])
  return 1
end
return 0
"""


class RedisDigestIndex:
    """The cluster's payload digests: the first worker to archive a payload owns it, the others write
    revisits of its record (archive/capture.py).

    It also keeps each URL's validators (ETag, Last-Modified) with the record holding its payload
    (`PREFIX:validators`, one hash, at most CLUSTER_VALIDATORS_MAX URLs), so any worker sends
    conditional requests for what another worker, or an earlier crawl, fetched.
    """

    def __init__(self, server: Any, key: str, max_entries: int = 2_000_000) -> None:
        self.server = server
        self.key = key
        prefix = key.rsplit(":", 1)[0]
        self.validators_key = f"{prefix}:validators"
        self.records_key = f"{prefix}:records"
        self.max_entries = max_entries
        self._full_logged = False
        self._hset_bounded = server.register_script(_HSET_BOUNDED)

    @classmethod
    def from_settings(cls, settings: Any) -> RedisDigestIndex:
        return cls(redis_client(settings.get("REDIS_URL")), _keys(settings).key("digests"),
                   settings.getint("CLUSTER_VALIDATORS_MAX", 2_000_000))

    def claim(self, original: Any) -> None:
        """Record a payload archived in full (first writer wins)."""
        value = json.dumps([original.record_id, original.url, original.date, original.payload_digest,
                            original.sha256])
        self.server.hsetnx(self.key, original.payload_digest, value.encode("utf-8"))

    def lookup(self, digest: str, sha256: str) -> tuple | None:
        """(record_id, url, date, payload_digest, sha256) of the payload's full record, or None."""
        raw = self.server.hget(self.key, digest)
        if raw is None:
            return None
        found = json.loads(raw)
        return tuple(found) if found[4] == sha256 else None


    # -- validators: what a conditional request sends, and the record a 304 stands for

    def remember_url(self, url: str, status: int, headers: list[tuple[str, str]], kind: str, record: tuple,
                     revisit_of: Any, warc_file: str, offset: int, truncated: str | None = None) -> None:
        """Keep url's validators with the record holding its payload, for any worker's next request.

        record is (record_id, date, payload_digest, sha256) of the capture just written (kind
        `response` or `revisit`); revisit_of the payload's original when it is a revisit. A 304 keeps
        the entry it answered; a complete 2xx capture without validators drops it.
        """
        if truncated or not 200 <= status < 300 or len(url) > _URL_MAX:
            return
        record_id, date, digest, sha256 = record
        if kind == "response":
            original = [record_id, url, date, digest, sha256]
            location = [warc_file, offset]
            if digest:
                self._hset_bounded(keys=[self.records_key], args=[record_id, json.dumps(location), self.max_entries])
        elif kind == "revisit" and revisit_of is not None:
            original = [revisit_of.record_id, revisit_of.url, revisit_of.date, revisit_of.payload_digest,
                        revisit_of.sha256]
            found = self.server.hget(self.records_key, revisit_of.record_id)
            location = json.loads(found) if found is not None else None
        else:
            return
        etag = _header_value(headers, "etag")
        last_modified = _header_value(headers, "last-modified")
        if not (etag or last_modified) or len(etag or "") > _VALIDATOR_MAX or len(last_modified or "") > _VALIDATOR_MAX:
            self.server.hdel(self.validators_key, url)
            return
        entry = {"etag": etag, "last_modified": last_modified, "status": status, "original": original,
                 "location": location}
        if not self._hset_bounded(keys=[self.validators_key], args=[url, json.dumps(entry), self.max_entries]):
            if not self._full_logged:
                logger.warning("%s holds %d URLs (CLUSTER_VALIDATORS_MAX): further URLs get no conditional "
                               "requests", self.validators_key, self.max_entries)
                self._full_logged = True

    def _entry(self, url: str) -> dict | None:
        raw = self.server.hget(self.validators_key, url)
        return json.loads(raw) if raw is not None else None

    def lookup_url(self, url: str) -> tuple | None:
        """(record_id, url, date, payload_digest, sha256) of the payload url's last capture holds, or None:
        what a `304 Not Modified` for url is archived as a revisit of (archive/capture.py)."""
        entry = self._entry(url)
        return tuple(entry["original"]) if entry is not None else None

    def previous_capture(self, url: str, warc_dirs: list[Path]) -> dict | None:
        """url's validators and the record a 304 stands for, when one of warc_dirs holds its file; else None.

        The record's `warc_file` is an absolute path when it is not in the first directory (the
        worker's own DATA_DIR/warc), which archive.reader.read_record_at reads as it is.
        """
        entry = self._entry(url)
        if entry is None or not entry.get("location") or not (entry.get("etag") or entry.get("last_modified")):
            return None
        name, offset = entry["location"]
        if Path(name).name != name:  # a name from Redis is a file name, never a path
            return None
        for index, directory in enumerate(warc_dirs):
            path = directory / name
            if path.is_file():
                record_id, _, date, _, sha256 = entry["original"]
                return {"record_id": record_id, "timestamp": date, "warc_file": name if index == 0 else str(path),
                        "offset": offset, "sha256": sha256, "status": entry.get("status"),
                        "etag": entry.get("etag"), "last_modified": entry.get("last_modified")}
        return None


def _header_value(headers: list[tuple[str, str]], name: str) -> str | None:
    return next((v for k, v in headers if k.lower() == name), None)


class SharedValidators:
    """The conditional-request lookup of a distributed worker (crawler/conditional.py): validators from
    Redis, the archived record read from this worker's WARC files or CLUSTER_ARCHIVE_DIRS."""

    def __init__(self, index: RedisDigestIndex, warc_dirs: list[Path]) -> None:
        self.index = index
        self.warc_dirs = warc_dirs

    def previous_capture(self, url: str) -> dict | None:
        """What ConditionalRequestMiddleware.previous_capture returns, for the whole cluster."""
        return self.index.previous_capture(url, self.warc_dirs)


def shared_validators(settings: Any) -> SharedValidators | None:
    """The cluster's validator store, or None when the crawl runs alone (the catalog answers then)."""
    if not distributed_enabled(settings):
        return None
    dirs = [Path(settings.get("DATA_DIR", "data")) / "warc"]
    archive_dirs = settings.getlist("CLUSTER_ARCHIVE_DIRS")
    dirs += [Path(d) / "warc" for d in archive_dirs if d]
    return SharedValidators(RedisDigestIndex.from_settings(settings), dirs)


def shared_digest_index(settings: Any) -> RedisDigestIndex | None:
    """The cluster's payload-digest index (Redis), or None when the crawl runs alone."""
    if not distributed_enabled(settings):
        return None
    return RedisDigestIndex.from_settings(settings)


def cluster_status(url: str, prefix: str = "nianbao") -> dict[str, Any]:
    """Progress of a cluster (`nianbao status`).

    Totals of queued and in-flight requests; per worker: alive or not, pages fetched, pages/s since
    its last heartbeat, items, the portals it holds; per portal: queued, in flight, owner, pages,
    reports and errors summed over workers, and once it is done the worker that finished it and its
    closing diagnosis.
    """
    server = redis_client(url)
    keys = Keys(prefix)
    portals = {}
    for raw in sorted(server.smembers(keys.key("portals"))):
        portal = raw.decode("utf-8")
        owner = server.get(keys.key("owner", portal))
        counts = dict.fromkeys(("pages", "reports", "errors"), 0)
        for value in server.hvals(keys.key("counters", portal)):
            for what, n in json.loads(value).items():
                if what in counts:
                    counts[what] += n
        finished = server.get(keys.key("finished", portal))
        diagnosis = server.get(keys.key("diagnosis", portal))
        portals[portal] = {"queued": server.zcard(keys.key("queue", portal)),
                           "in_flight": server.hlen(keys.key("inflight", portal)),
                           "owner": owner.decode("utf-8") if owner else None, **counts,
                           "finished_by": finished.decode("utf-8").rsplit("/", 1)[0] if finished else None,
                           "diagnosis": json.loads(diagnosis) if diagnosis else None}
    workers = sorted(k.decode("utf-8").rsplit(":", 1)[1] for k in server.scan_iter(keys.key("worker", "*")))
    progress = {}
    for key in sorted(server.scan_iter(keys.key("progress", "*"))):
        wid = key.decode("utf-8").rsplit(":", 1)[1]
        found = server.get(key)
        if found is None:
            continue
        seen = json.loads(found)
        progress[wid] = {"alive": wid in workers, "closed": seen.get("closed", False), "pages": seen["pages"],
                         "pages_per_s": 0.0 if seen.get("closed") else seen["pages_per_s"],
                         "items": seen["items"], "portals": seen["portals"],
                         "seconds_since_heartbeat": round(time.time() - seen["at"], 1)}
    crawl = server.get(keys.key("crawl"))
    return {"crawl": crawl.decode("ascii") if crawl else None, "workers": workers,
            "queued": sum(p["queued"] for p in portals.values()),
            "in_flight": sum(p["in_flight"] for p in portals.values()),
            "portals_done": sum(1 for p in portals.values() if p["finished_by"] or p["diagnosis"]),
            "fingerprints": server.scard(keys.key("dupefilter")), "payloads": server.hlen(keys.key("digests")),
            "validators": server.hlen(keys.key("validators")),
            "worker_progress": progress, "portals": portals}
