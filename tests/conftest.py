"""Shared fixtures: the sample portals (started once per test session) and their ground truth."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator

import pytest

from nianbao.demo import DEMO_SETTINGS
from nianbao.sample_portals.server import SamplePortals
from nianbao.sample_portals.truth import load_truth


@pytest.fixture(scope="session")
def sample_portals() -> Iterator[SamplePortals]:
    """The bundled sample portals on 127.0.0.1 (free ports); `.registry`, `.base_urls`, `.url(host, path)`."""
    portals = SamplePortals().start()
    try:
        yield portals
    finally:
        portals.stop()


@pytest.fixture(scope="session")
def sample_truth() -> list[dict]:
    """Ground truth of every report the sample portals publish (see nianbao.sample_portals.truth)."""
    return load_truth()


@pytest.fixture(scope="session")
def refreshed(sample_portals: SamplePortals, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One `nianbao refresh` (crawl + archive + parse) of the sample portals, shared by the session.

    Returns {"data": DATA_DIR, "summary": the printed JSON summary, "exit": exit code, "stderr": log}.
    """
    data = tmp_path_factory.mktemp("refreshed") / "data"
    cmd = [sys.executable, "-m", "nianbao.cli", "refresh", "--portals", str(sample_portals.registry),
           "--data", str(data)]
    for key, value in DEMO_SETTINGS.items():
        cmd += ["-s", f"{key}={value}"]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=900, cwd=data.parent)
    summary = json.loads(result.stdout) if result.stdout.strip().startswith("{") else {}
    return {"data": data, "summary": summary, "exit": result.returncode, "stderr": result.stderr}


@pytest.fixture(scope="session")
def shared_dir():
    """The third-party material folder (`../shared` beside the repository); skips the test when absent."""
    from shared_support import shared_path

    return shared_path()
