"""`nianbao export wacz`: package DATA_DIR's WARC files as one WACZ (1.1.1) with the `wacz` package.

The page list (`pages/pages.jsonl`) names every archived HTML page that answered 200 — from the
catalog's captures, or the CDXJ indexes without one — so replay tools open on the portals' pages.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import sqlite3
import tempfile
from pathlib import Path

from wacz.main import main as wacz_main

from archive.cdxj import iter_index
from archive.warc import closed_warc_files

logger = logging.getLogger(__name__)


class ExportError(Exception):
    """The archive could not be exported; the message names the directory or file."""


def _iso(ts14: str) -> str:
    return f"{ts14[0:4]}-{ts14[4:6]}-{ts14[6:8]}T{ts14[8:10]}:{ts14[10:12]}:{ts14[12:14]}Z"


def archived_pages(data_dir: Path) -> list[dict]:
    """The first 200 HTML capture of each URL: `{"url", "ts"}` in capture order."""
    pages: dict[str, str] = {}
    catalog = data_dir / "catalog.db"
    if catalog.exists():
        try:
            conn = sqlite3.connect(f"file:{catalog}?mode=ro", uri=True, timeout=30)
            try:
                rows = conn.execute(
                    "select url, timestamp from captures where warc_type in ('response', 'revisit') "
                    "and status = 200 and content_type like 'text/html%' order by timestamp").fetchall()
            finally:
                conn.close()
            for url, ts in rows:
                pages.setdefault(url, ts[:19] + "Z" if len(ts) > 19 else ts)
        except sqlite3.Error as exc:
            logger.warning("%s: no captures to list pages from (%s); using the CDXJ indexes", catalog, exc)
    if not pages:
        for entry in iter_index(data_dir):
            if str(entry.get("status")) == "200" and str(entry.get("mime", "")).startswith("text/html"):
                pages.setdefault(entry["url"], _iso(entry["timestamp"]))
    return [{"url": url, "ts": ts} for url, ts in pages.items()]


def export_wacz(data_dir: str | Path, out: str | Path) -> Path:
    """Write DATA_DIR's closed WARC files, their index and page list to out (a .wacz); returns out."""
    data_dir, out = Path(data_dir), Path(out)
    warcs = closed_warc_files(data_dir / "warc")
    if not warcs:
        raise ExportError(f"{data_dir / 'warc'}: no closed WARC files to export")
    if out.suffix != ".wacz":
        raise ExportError(f"{out}: the output name must end in .wacz")
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="nianbao-wacz-") as tmp:
        pages_file = Path(tmp) / "pages.jsonl"
        lines = [{"format": "json-pages-1.0", "id": "pages", "title": "All Pages"}]
        lines += [{"id": f"page-{n}", **page} for n, page in enumerate(archived_pages(data_dir))]
        pages_file.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines),
                              encoding="utf-8")
        args = ["create", "-o", str(out), "-p", str(pages_file), "--copy-pages",
                "--title", f"nianbao archive ({data_dir.name})", *map(str, warcs)]
        chatter = io.StringIO()  # the wacz tool prints progress we do not want on stdout
        with contextlib.redirect_stdout(chatter):
            status = wacz_main(args)
    if status not in (0, None) or not out.exists():
        raise ExportError(f"{out}: wacz create failed: {chatter.getvalue().strip()[-500:]}")
    return out
