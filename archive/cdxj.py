"""CDXJ indexes of the closed WARC files, one `NAME.cdxj` per `NAME.warc.gz` under DATA_DIR/indexes.

Written with cdxj-indexer (sorted, POST bodies appended to the URL key the way pywb looks them up), so
pywb reads the directory as it is. An index is rewritten whenever its WARC file is newer than it.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path

from cdxj_indexer.main import CDXJIndexer

from archive.warc import WARC_SUFFIX, closed_warc_files

logger = logging.getLogger(__name__)

INDEX_SUFFIX = ".cdxj"


def index_path(indexes_dir: Path, warc_file: Path) -> Path:
    """Where the index of one WARC file lives."""
    return indexes_dir / (warc_file.name[: -len(WARC_SUFFIX)] + INDEX_SUFFIX)


def index_warc(warc_file: Path, out: Path) -> Path:
    """Index one WARC file into out (written beside it first, then moved into place)."""
    tmp = out.with_name(out.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        CDXJIndexer(output=fh, inputs=[str(warc_file)], sort=True, post_append=True).process_all()
    os.replace(tmp, out)
    return out


def update_indexes(data_dir: str | Path) -> list[Path]:
    """Index every closed WARC file of DATA_DIR whose index is missing or older; returns those written.

    A file that cannot be indexed is logged by name and skipped; the others are still indexed.
    Indexes of WARC files that no longer exist are removed.
    """
    data_dir = Path(data_dir)
    indexes_dir = data_dir / "indexes"
    indexes_dir.mkdir(parents=True, exist_ok=True)
    written = []
    warcs = closed_warc_files(data_dir / "warc")
    for warc in warcs:
        out = index_path(indexes_dir, warc)
        if out.exists() and out.stat().st_mtime >= warc.stat().st_mtime:
            continue
        try:
            written.append(index_warc(warc, out))
        except Exception as exc:
            logger.error("%s: cannot index WARC file: %s", warc, exc)
    wanted = {index_path(indexes_dir, w).name for w in warcs}
    for stale in indexes_dir.glob(f"*{INDEX_SUFFIX}"):
        if stale.name not in wanted:
            stale.unlink()
    return written


def iter_index(data_dir: str | Path) -> Iterator[dict]:
    """Every CDXJ line of DATA_DIR's indexes as a dict (`urlkey`, `timestamp` and the JSON fields)."""
    for path in sorted((Path(data_dir) / "indexes").glob(f"*{INDEX_SUFFIX}")):
        with open(path, encoding="utf-8") as fh:
            for number, line in enumerate(fh, start=1):
                if not line.strip() or line.startswith("!"):
                    continue
                try:
                    urlkey, timestamp, fields = line.rstrip("\n").split(" ", 2)
                    yield {"urlkey": urlkey, "timestamp": timestamp, **json.loads(fields)}
                except ValueError as exc:
                    logger.error("%s:%d: bad CDXJ line: %s", path, number, exc)
