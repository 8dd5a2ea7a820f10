"""The machine a benchmark ran on: CPU, cores, memory, OS, tool versions, load when it started."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from importlib import metadata

import psutil


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def _wget_version() -> str:
    try:
        out = subprocess.run(["wget", "--version"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return "not installed"
    return out.splitlines()[0] if out else "unknown"


def describe_machine() -> dict:
    """A description of this machine and the software measured on it."""
    return {
        "cpu": _cpu_model(),
        "logical_cpus": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "os": platform.platform(),
        "python": sys.version.split()[0],
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "versions": {p: _version(p) for p in ("scrapy", "warcio", "sqlite-utils", "datasette", "pdfplumber",
                                               "pandas", "lxml", "pyinstrument")},
        "wget": _wget_version(),
    }
