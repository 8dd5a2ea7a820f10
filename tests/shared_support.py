"""Where the third-party material lives: `../shared` beside the repository (or beside one of its parents).

The seeds and the real report pages are third-party text, so the project never carries them; tests that
read them find the folder relative to the repository root (a git worktree may sit a level or two deeper)
or through `NIANBAO_SHARED`, and skip with one clear reason when it is absent.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
ABSENT_REASON = "../shared (third-party seeds and real reports) is not beside the repository; set NIANBAO_SHARED"


def _locate() -> Path | None:
    override = os.environ.get("NIANBAO_SHARED")
    if override:
        path = Path(override)
        return path if path.is_dir() else None
    # the repository's parent first; a worktree (repo/../wt/NAME) looks one or two levels further up
    for parent in list(REPO_ROOT.parents)[:3]:
        candidate = parent / "shared"
        if (candidate / "seeds").is_dir() or (candidate / "real").is_dir():
            return candidate
    return None


SHARED: Path | None = _locate()


def shared_path(*parts: str) -> Path:
    """A path inside ../shared; skips the calling test (with the reason) when ../shared is absent."""
    if SHARED is None:
        pytest.skip(ABSENT_REASON)
    path = SHARED.joinpath(*parts)
    if parts and not path.exists():
        pytest.skip(f"{Path('shared', *parts)} is absent from {SHARED}")
    return path


def shared_or_none(*parts: str) -> Path | None:
    """A path inside ../shared, or None (for module-level parametrisation before tests run)."""
    if SHARED is None:
        return None
    path = SHARED.joinpath(*parts)
    return path if path.exists() else None


needs_shared = pytest.mark.skipif(SHARED is None, reason=ABSENT_REASON)
