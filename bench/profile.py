"""Hot spots from pyinstrument sessions: where the busy time of a crawl or a parse goes.

A crawl spends much of its wall time waiting in the event loop's `select`; that idle time is left out,
so each share is of the time the process was actually working. Shares are given per function (self
time) and per project module (inclusive time of the outermost call into it).
"""

from __future__ import annotations

import subprocess
import sys
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
_IDLE_FUNCTIONS = {"select", "poll", "epoll", "_run_once.select", "sleep"}
# the harness (bench/) is left out: it is what runs the code measured, not part of it
_PROJECT_DIRS = ("spiders", "crawler", "archive", "nianbao", "settings.py")


def _is_idle(frame) -> bool:
    path = frame.file_path or ""
    return frame.function in _IDLE_FUNCTIONS and ("selectors" in path or "<built-in>" in path or not path)


def _project_module(frame) -> str | None:
    path = frame.file_path or ""
    if ".venv" in path or "site-packages" in path:
        return None
    try:
        rel = Path(path).resolve().relative_to(REPO)
    except ValueError:
        return None
    return str(rel) if rel.parts and rel.parts[0] in _PROJECT_DIRS else None


def hot_spots(session, top: int = 12) -> dict:
    """Top functions by self time and project modules by inclusive time, as shares of busy time."""
    root = session.root_frame()
    if root is None:
        return {"busy_s": 0.0, "functions": [], "modules": []}
    self_time: dict[tuple[str, str], float] = defaultdict(float)
    module_time: dict[str, float] = defaultdict(float)
    idle = 0.0

    by_caller: dict[tuple[tuple[str, str], str], float] = defaultdict(float)

    def walk(frame, inside: frozenset, parent_key: tuple[str, str], caller: str) -> None:
        nonlocal idle
        if _is_idle(frame):
            idle += frame.time
            return
        if (frame.function or "").startswith("["):
            # pyinstrument's synthetic "[self]"/"[await]" frames: time spent in the parent itself
            self_time[parent_key] += frame.time
            by_caller[(parent_key, caller)] += frame.time
            return
        key = (frame.file_path_short or frame.file_path or "?", frame.function or "?")
        self_time[key] += frame.total_self_time
        by_caller[(key, caller)] += frame.total_self_time
        module = _project_module(frame)
        if module:
            caller = f"{module}:{frame.function}"
            if module not in inside:
                module_time[module] += frame.time
                inside = inside | {module}
        for child in frame.children:
            walk(child, inside, key, caller)

    walk(root, frozenset(), ("?", "?"), "-")
    busy = max(root.time - idle, 1e-9)
    functions = sorted(self_time.items(), key=lambda kv: -kv[1])[:top]
    modules = sorted(module_time.items(), key=lambda kv: -kv[1])[:top]
    return {
        "wall_s": round(root.time, 2),
        "busy_s": round(busy, 2),
        "functions": [{"function": f"{fn} ({path})", "self_s": round(t, 2), "share": round(t / busy, 3),
                       "project_callers": _callers(by_caller, (path, fn), busy)}
                      for (path, fn), t in functions],
        "modules": [{"module": m, "inclusive_s": round(t, 2), "share": round(t / busy, 3)} for m, t in modules],
    }


def _callers(by_caller: dict, key: tuple[str, str], busy: float, top: int = 3) -> list[dict]:
    """The project functions nearest above `key` on the stack, by the self time of key under them."""
    rows = sorted(((caller, t) for (k, caller), t in by_caller.items() if k == key), key=lambda kv: -kv[1])
    return [{"caller": c, "share": round(t / busy, 3)} for c, t in rows[:top] if c != "-"]


def profile_crawl(registry: Path, work: Path, warc: bool = True, timeout_s: float = 600) -> dict:
    """Run one benchmark crawl under pyinstrument; its hot spots."""
    from pyinstrument.session import Session

    work.mkdir(parents=True, exist_ok=True)
    session_file = work / "crawl.pyisession"
    command = [sys.executable, "-m", "pyinstrument", "-r", "pyisession", "-o", str(session_file),
               "-m", "bench.crawl_child", "--portals", str(registry), "--data", str(work / "data"),
               "--stats", str(work / "stats.json")]
    if not warc:
        command.append("--no-warc")
    with open(work / "profile.log", "wb") as log:
        subprocess.run(command, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, timeout=timeout_s, check=False)
    session = Session.load(str(session_file))
    session_file.unlink()  # tens of MB; the hot spots are what is kept
    return hot_spots(session)
