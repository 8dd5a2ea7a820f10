"""Shared fixtures: the sample portals (started once per test session) and their ground truth."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

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
