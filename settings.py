"""Scrapy settings for nianbao (the module named in scrapy.cfg).

The `nianbao` CLI loads this file by path (see nianbao/config.py), so it is the
one place crawl behaviour is configured, whether run as `scrapy crawl portals`
from the repo root or as `nianbao refresh` from anywhere.
"""

import os

BOT_NAME = "nianbao"
SPIDER_MODULES = ["spiders"]
NEWSPIDER_MODULE = "spiders"

# Where everything the crawl writes goes (warc/, indexes/, catalog.db, jobs/).
DATA_DIR = os.environ.get("NIANBAO_DATA_DIR", "data")
# A crawl holds DATA_DIR/catalog.lock (nianbao/lock.py); when another writer holds it, wait this long, then exit 1.
DATA_DIR_LOCK_WAIT = 0

# --- politeness -----------------------------------------------------------
CONTACT_URL = os.environ.get("NIANBAO_CONTACT_URL", "https://github.com/nianbao-archive/nianbao")
USER_AGENT = f"nianbao/0.1 (+{CONTACT_URL}; archive of government information-disclosure annual reports)"
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 32
CONCURRENT_REQUESTS_PER_DOMAIN = 2
# Scrapy starts this many asyncio tasks for every response's callback output (default 100); the
# pipeline is synchronous, so more than a few only cost CPU (about 20 % of the crawl's, bench/README.md)
CONCURRENT_ITEMS = 8
# holds CONCURRENT_REQUESTS_PER_DOMAIN when several requests of one host are queued at once
# (crawler.budget.BudgetedDownloader is that downloader, also dropping a spent portal's queued requests unsent)
DOWNLOADER = "crawler.budget.BudgetedDownloader"
DOWNLOAD_DELAY = 0.5
DOWNLOAD_DELAY_JITTER = 0.5
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 0.5
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
# A deadline for the whole exchange (connection, headers and body), seconds.
DOWNLOAD_TIMEOUT = 60
# A body still arriving slower than this (bytes/s) after SLOW_BODY_GRACE seconds is cut and recorded
# as a timeout (crawler/deadlines.py); 0 turns the check off.
SLOW_BODY_MIN_RATE = 2048
SLOW_BODY_GRACE = 15
# Large attachments are cut here; the WARC record of a cut body carries WARC-Truncated.
DOWNLOAD_MAXSIZE = 200 * 1024 * 1024
DOWNLOAD_WARNSIZE = 50 * 1024 * 1024

RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
# A 429/503 is retried no sooner than its Retry-After asks, but never waits longer than this (seconds).
RETRY_AFTER_MAX = 120
# A timeout is retried at most this often: a URL that never answers costs (1 + this) × DOWNLOAD_TIMEOUT.
TIMEOUT_RETRY_TIMES = 1

# Anti-bot answers (瑞数-style 412/403 challenges) mark the portal blocked instead of looping.
BLOCKED_STATUS_CODES = [403, 412, 521]

# --- per-portal budgets (crawler/budget.py, crawler/discovery.py) --------------
# A portal's crawl stops when one is spent (0: no limit); the diagnosis says which.
PORTAL_BUDGET_PAGES = 3000            # requests per portal
PORTAL_BUDGET_BYTES = 1024 ** 3       # response bytes per portal (decoded)
PORTAL_BUDGET_SECONDS = 1800          # wall time from the portal's first request
# Finding the 年报 column: pages tried best-first, and link depth from the registry URL.
DISCOVERY_MAX_PAGES = 25
DISCOVERY_MAX_DEPTH = 3

# --- components -----------------------------------------------------------
DOWNLOADER_MIDDLEWARES = {
    # Archives every exchange as the server sent it: it must see responses before
    # HttpCompressionMiddleware (590) decodes them and RedirectMiddleware (600) follows them.
    "archive.capture.WarcCaptureMiddleware": 950,
    "crawler.middlewares.BlockedPortalMiddleware": 560,
    # Per-portal budgets (pages, bytes, wall time): drops a spent portal's requests before anything else
    # of theirs is done; counts bytes as decoded (after HttpCompression, 590).
    "crawler.budget.PortalBudgetMiddleware": 555,
    # Revalidates documents already archived (If-None-Match/If-Modified-Since). Just inside the capture
    # middleware: its validators go on the request after everything that may drop or rewrite it (blocked
    # portal 560, redirects 600), and it sees the raw 304 right after the capture middleware archived it.
    "crawler.conditional.ConditionalRequestMiddleware": 940,
    # Outermost, so a refused private address is neither fetched nor archived (redirects pass here again).
    "crawler.middlewares.PrivateAddressMiddleware": 960,
    # Scrapy's decompression (capped at DOWNLOAD_MAXSIZE decoded bytes), recording what it refuses.
    "scrapy.downloadermiddlewares.httpcompression.HttpCompressionMiddleware": None,
    "crawler.decoding.RecordedHttpCompressionMiddleware": 590,
    # Scrapy's retries, with Retry-After honoured and timeouts retried less (crawler/retry.py).
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawler.retry.RetryAfterMiddleware": 550,
}
ITEM_PIPELINES = {
    "crawler.pipelines.CatalogPipeline": 300,
}
EXTENSIONS = {
    "crawler.extensions.OfflinePublicSuffixList": 0,
    "crawler.extensions.CrawlRecorder": 500,
    "crawler.extensions.PortalStats": 510,
    "crawler.fetch_failures.FetchFailureRecorder": 520,
    "crawler.deadlines.SlowBodyGuard": 530,
    # Scrapy's consoles into a running crawl are off: the telnet console, and from
    # Scrapy 2.19 an HTTP server on localhost that runs posted Python code and leaves a job file with its
    # token in ~/.local/state/scrapy. A crawler that reads untrusted pages on a shared machine exposes
    # no code-execution port; `nianbao status` and the logs are how a crawl is watched.
    "scrapy.extensions.telnet.TelnetConsole": None,
    "scrapy.extensions.remote_control.RemoteControl": None,
}
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False

# --- the address policy (crawler/addresses.py) ------------------------------
# Proxies named in the environment (http_proxy, https_proxy …) are not used unless this is true (crawler/proxies.py):
# the policy cannot see where a proxy connects. When true, the proxies' own hosts may be connected to (private ones
# too) and every target host is resolved and checked here before a request goes through them.
PROXY_FROM_ENV = os.environ.get("NIANBAO_PROXY_FROM_ENV", "") in ("1", "true", "True")
DOWNLOADER_MIDDLEWARES["scrapy.downloadermiddlewares.httpproxy.HttpProxyMiddleware"] = None
DOWNLOADER_MIDDLEWARES["crawler.proxies.GuardedProxyMiddleware"] = 750
# Every name a connection resolves is checked here, all its A/AAAA records (crawler/resolver.py).
TWISTED_DNS_RESOLVER = "crawler.resolver.GuardedResolver"

# --- the archive ----------------------------------------------------------
WARC_ENABLED = True
# Documents already archived are asked for with their validators; a 304 is archived as a revisit.
CONDITIONAL_REQUESTS = True
WARC_PREFIX = "nianbao"
WARC_MAX_SIZE = 1024 * 1024 * 1024
WARC_OPERATOR = os.environ.get("NIANBAO_OPERATOR", "nianbao archive")

# --- browser rendering (only for requests that need it) ----------------------
DOWNLOAD_HANDLERS = {
    "http": "crawler.download_handler.HttpOrBrowserDownloadHandler",
    "https": "crawler.download_handler.HttpOrBrowserDownloadHandler",
}
PLAYWRIGHT_BROWSER_TYPE = "chromium"
PLAYWRIGHT_LAUNCH_OPTIONS = {
    "executable_path": os.environ.get("NIANBAO_CHROMIUM", "/usr/bin/chromium"),
    "headless": True,
    "args": [
        # Chromium refuses to start its sandbox as root; only there does it run without one.
        *(["--no-sandbox"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []),
        "--disable-gpu",
        "--dns-prefetch-disable",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-quic",
        # the browser would use the environment's proxies on its own: only when the crawl allows them
        *([] if PROXY_FROM_ENV else ["--no-proxy-server"]),
    ],
}
PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT = 30_000
PLAYWRIGHT_MAX_PAGES_PER_CONTEXT = 4
# Service workers fetch outside the page's routes, where the address policy could not see them.
PLAYWRIGHT_CONTEXTS = {"default": {"service_workers": "block"}}

TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = os.environ.get("NIANBAO_LOG_LEVEL", "INFO")

# --- more than one machine (crawler/distributed.py) -------------------------
# Off by default: one process, no Redis. DISTRIBUTED=True with REDIS_URL puts the frontier, the request
# fingerprints, per-host politeness, robots.txt and the payload digests in Redis (`nianbao worker`).
DISTRIBUTED = os.environ.get("NIANBAO_DISTRIBUTED", "") in ("1", "true", "True")
REDIS_URL = os.environ.get("NIANBAO_REDIS_URL", "")
WORKER_ID = os.environ.get("NIANBAO_WORKER_ID", "")
# Scrapy's robots.txt middleware, in its place: each fetch carries the portal that needed it (its failure is the
# portal's), and in distributed mode one worker fetches each host's robots.txt for the cluster (crawler/robots.py)
DOWNLOADER_MIDDLEWARES["scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware"] = None
DOWNLOADER_MIDDLEWARES["crawler.robots.PortalRobotsTxtMiddleware"] = 100
DOWNLOADER_MIDDLEWARES["crawler.distributed.ClusterHostSlotMiddleware"] = 990
SPIDER_MIDDLEWARES = {"crawler.distributed.InFlightMiddleware": 10}
