"""The seeds' hand-read truth as input for the sample-document writers (shared by writer and reader tests)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

TRUTH_DIR = Path(__file__).resolve().parents[2] / "shared" / "seeds" / "truth"
needs_soffice = pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice generates PDF/DOC samples")


def seed_report(name: str) -> dict:
    """Seed truth `name` (a file in TRUTH_DIR) with the publication date a writer prints; skips when absent."""
    path = TRUTH_DIR / name
    if not path.exists():
        pytest.skip(f"seed truth {path} is absent")
    report = json.loads(path.read_text(encoding="utf-8"))
    report["published"] = f"{report['year'] + 1}-01-20"
    return report
