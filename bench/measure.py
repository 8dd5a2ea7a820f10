"""Run a command as a child process and measure it: wall time, CPU, peak RSS, RSS over time.

CPU comes from the kernel's rusage of the reaped child (`os.wait4`), which counts every thread and every
descendant the child itself waited for. Peak RSS is each process's own high-water mark (VmHWM, read while
it runs); RSS over time is sampled with psutil (the child plus its live descendants), so a run's memory
curve can be checked for growth.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import psutil


@dataclass
class Measured:
    """What one child process cost."""

    command: list[str]
    returncode: int | None
    wall_s: float
    cpu_user_s: float
    cpu_sys_s: float
    peak_rss_mb: float  # peak RSS (VmHWM) of the child process itself
    peak_tree_rss_mb: float  # largest sampled RSS of the child and its descendants together
    rss_samples: list[tuple[float, float]] = field(default_factory=list)  # (seconds since start, MB)
    stopped_by_window: bool = False

    @property
    def cpu_s(self) -> float:
        return self.cpu_user_s + self.cpu_sys_s

    def to_dict(self) -> dict:
        out = asdict(self)
        out["cpu_s"] = round(self.cpu_s, 3)
        return out


def _high_water_kb(pid: int) -> int:
    """VmHWM of a live process: its peak RSS since its last exec (ru_maxrss would also count the
    Python parent's pages the child had before exec'ing the tool)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _tree_rss(proc: psutil.Process, high_water: dict[int, int]) -> float:
    """The tree's current RSS in MB; updates high_water (pid -> peak kB) on the way."""
    total = 0
    try:
        procs = [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return 0.0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            continue
        high_water[p.pid] = max(high_water.get(p.pid, 0), _high_water_kb(p.pid))
    return total / 2**20


def run_measured(command: list[str], *, cwd: Path | None = None, env: dict | None = None,
                 timeout_s: float = 1800, window_s: float | None = None, sample_every_s: float = 1.0,
                 log_path: Path | None = None) -> Measured:
    """Run `command` to completion (or until `window_s`, when it is sent SIGTERM and then SIGKILL).

    `timeout_s` bounds every run: a child still alive then is killed and the figures are of what ran.
    Output goes to `log_path` (or nowhere) so a chatty tool cannot block on a full pipe.
    """
    out = open(log_path, "wb") if log_path else subprocess.DEVNULL  # noqa: SIM115 - closed below
    start = time.monotonic()
    try:
        proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    finally:
        if log_path:
            out.close()
    watched = psutil.Process(proc.pid)
    samples: list[tuple[float, float]] = []
    high_water: dict[int, int] = {}
    stopped = False
    limit = min(timeout_s, window_s) if window_s else timeout_s
    signalled_at = None
    rusage = None
    status = None
    while True:
        pid, status, rusage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        now = time.monotonic() - start
        samples.append((round(now, 2), round(_tree_rss(watched, high_water), 1)))
        if now > limit and signalled_at is None:
            stopped = window_s is not None and now >= window_s
            # the whole session: a tool's own children go too
            os.killpg(proc.pid, signal.SIGTERM)
            signalled_at = now
        elif signalled_at is not None and now > signalled_at + 15:
            os.killpg(proc.pid, signal.SIGKILL)
        time.sleep(sample_every_s if now > 2 else min(0.2, sample_every_s))
    wall = time.monotonic() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return Measured(
        command=[str(c) for c in command],
        returncode=proc.returncode,
        wall_s=round(wall, 3),
        cpu_user_s=round(rusage.ru_utime, 3),
        cpu_sys_s=round(rusage.ru_stime, 3),
        peak_rss_mb=round(high_water.get(proc.pid, 0) / 1024, 1),
        peak_tree_rss_mb=max((mb for _, mb in samples), default=0.0),
        rss_samples=samples,
        stopped_by_window=stopped,
    )


def dir_bytes(path: Path) -> int:
    """Total size of the files under path (0 when it does not exist)."""
    if not path.exists():
        return 0
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
