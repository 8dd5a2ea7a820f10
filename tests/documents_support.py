"""The seeds' hand-read truth as input for the sample-document writers (shared by writer and reader tests).

The truth (facts: cells and metadata) ships with the project in nianbao/sample_portals/seed_truth.json,
so these tests need no ../shared.
"""

from __future__ import annotations

import copy
import shutil

import pytest

from nianbao.sample_portals.corpus import seed_truths

SEED_NAMES = sorted(f"{name}.json" for name in seed_truths())
needs_soffice = pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice generates PDF/DOC samples")


def seed_report(name: str) -> dict:
    """Seed truth `name` ("<seed id>.json") with the publication date a writer prints."""
    report = copy.deepcopy(seed_truths()[name.removesuffix(".json")])
    report["published"] = f"{report['year'] + 1}-01-20"
    return report
