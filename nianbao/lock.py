"""One writer at a time: the data directory's lock.

Every command that writes the catalog (`refresh`, `parse --data`, catalog maintenance) holds
DATA_DIR/catalog.lock while it runs. The lock is an `flock` on that file, so the kernel releases it
when its holder dies, even by SIGKILL; the file itself only says who holds it (PID and command), for
the message a second writer prints. A second writer waits up to `wait` seconds, then gives up with
`DataDirLocked`.

A child process the holder starts for the same run (the crawl `refresh` runs as `scrapy crawl`) does
not take the lock again: the holder names its lock and PID in the child's environment
(`child_env()`, NIANBAO_LOCK_HELD), and only a direct child of that PID trusts it.

A bare `scrapy crawl portals` takes the lock itself for the whole crawl (`hold_for_crawl`): two
crawls, or a crawl and a refresh, never write one data directory at once.
"""

from __future__ import annotations

import fcntl
import logging
import os
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

logger = logging.getLogger(__name__)

LOCK_FILE = "catalog.lock"
HELD_ENV = "NIANBAO_LOCK_HELD"
_POLL_S = 0.2


class DataDirLocked(Exception):
    """Another process holds the data directory's lock; the message names the file and the holder's PID."""

    def __init__(self, path: Path, holder: str, waited: float, hint: str = "pass --wait SECONDS to wait for it") -> None:
        self.path, self.holder, self.waited = path, holder, waited
        pid = holder.split()[0] if holder.split() else "unknown"
        self.pid = int(pid) if pid.isdigit() else None
        after = f" after waiting {waited:g} s" if waited else ""
        super().__init__(f"{path} is held by {holder or 'another process'}{after}; {hint}")


def lock_path(root: str | os.PathLike) -> Path:
    """The lock file of the data directory root."""
    return Path(root) / LOCK_FILE


def holder(root: str | os.PathLike) -> str:
    """'PID command' of the lock's current (or last) holder, '' when none was ever written."""
    try:
        return lock_path(root).read_text(encoding="utf-8").strip()
    except OSError:
        return ""


def child_env(root: str | os.PathLike, env: dict[str, str]) -> dict[str, str]:
    """env for a child process of this lock's holder: it may write under the holder's lock."""
    return {**env, HELD_ENV: f"{os.getpid()}:{lock_path(root).resolve()}"}


def held_by_parent(root: str | os.PathLike) -> bool:
    """True when this process's parent holds root's lock for it (see child_env)."""
    pid, _, path = os.environ.get(HELD_ENV, "").partition(":")
    return pid.isdigit() and int(pid) == os.getppid() and Path(path) == lock_path(root).resolve()


@contextmanager
def data_dir_lock(root: str | os.PathLike, command: str, wait: float = 0.0,
                  hint: str = "pass --wait SECONDS to wait for it") -> Iterator[Path]:
    """Hold root's lock for the block; wait up to `wait` seconds for it, else raise DataDirLocked
    (its message ends with `hint`, how to wait)."""
    path = lock_path(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    if held_by_parent(root):
        yield path
        return
    started = time.monotonic()
    # opened without truncating: the holder's PID must stay readable until the lock is ours
    handle = open(path, "a+", encoding="utf-8")
    try:
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                waited = time.monotonic() - started
                if waited >= wait:
                    handle.seek(0)
                    raise DataDirLocked(path, handle.read().strip(), round(wait, 1), hint) from None
                time.sleep(min(_POLL_S, max(wait - waited, 0.01)))
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()} {command}\n")
        handle.flush()
        try:
            yield path
        finally:
            handle.seek(0)
            handle.truncate()
            handle.flush()
            fcntl.flock(handle, fcntl.LOCK_UN)
    finally:
        handle.close()


CRAWL_COMMAND = "scrapy crawl portals"


def hold_for_crawl(crawler) -> None:  # noqa: ANN001 - a Scrapy Crawler
    """Hold DATA_DIR's lock from now until the crawl's engine stops (released by the kernel if it dies).

    A crawl started by the lock's holder (`refresh`) runs under its lock. When another process holds
    it, the crawl waits DATA_DIR_LOCK_WAIT seconds (default 0), then logs who holds it and raises
    `DataDirLocked`, so `scrapy crawl` exits 1 before anything is fetched or written.
    """
    from scrapy import signals

    if not getattr(crawler, "crawling", False):
        return  # a spider built outside a crawl (a test, a probe) writes nothing
    root = crawler.settings.get("DATA_DIR") or "data"
    stack = ExitStack()
    wait = crawler.settings.getfloat("DATA_DIR_LOCK_WAIT", 0)
    try:
        stack.enter_context(data_dir_lock(root, CRAWL_COMMAND, wait, hint="pass -s DATA_DIR_LOCK_WAIT=SECONDS to wait"))
    except DataDirLocked as exc:
        logger.error("%s: the data directory is being written by %s; this crawl does not start", exc.path,
                     exc.holder or "another process")
        raise
    # kept on the crawler: the signal holds its receiver weakly, and closing the file would let go
    crawler.nianbao_data_dir_lock = stack
    crawler.signals.connect(stack.close, signal=signals.engine_stopped)
