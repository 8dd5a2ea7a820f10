"""CDXJ indexes of the closed WARC files, one `NAME.cdxj` per `NAME.warc.gz` under DATA_DIR/indexes.

The lines are cdxj-indexer's (sorted, POST bodies appended to the URL key the way pywb looks them up),
so pywb reads the directory as it is. A crawl writes each file's index as it closes the file, from the
records it wrote (`LiveIndex`: no second read of the WARC); any closed file without an index, or newer
than it (a file repaired after a kill, a file with POST requests), is indexed by cdxj-indexer itself.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path

from warcio.timeutils import iso_date_to_timestamp

from archive.warc import CDXJ_RECORDS, OPEN_SUFFIX, UNINDEXED, WARC_SUFFIX, closed_warc_files

logger = logging.getLogger(__name__)

INDEX_SUFFIX = ".cdxj"
PART_SUFFIX = ".part"  # a live index's unsorted lines, beside the index it becomes


def cdxj_line(entry: tuple, warc_name: str, offset: int, length: int) -> str:
    """The line cdxj-indexer writes for a record (`archive.warc.index_fields`) at offset in warc_name."""
    import surt  # loads tldextract's suffix list: only when a line is written

    url, date, fields = entry
    try:
        urlkey = surt.surt(url)
    except Exception:  # noqa: BLE001 - cdxj-indexer falls back to the URL for anything surt refuses
        urlkey = url
    line = {**fields, "length": str(length), "offset": str(offset), "filename": warc_name}
    return f"{urlkey} {iso_date_to_timestamp(date)} {json.dumps(line)}\n"


class LiveIndex:
    """Writes the CDXJ index of each WARC file while it is written (see archive.warc.WarcFileWriter).

    Lines go unsorted to `NAME.cdxj.part` as records are appended and are sorted into `NAME.cdxj` when
    the file closes. A file with a record only cdxj-indexer can index gets no live index; neither does
    one left `.open` by a kill: `update_indexes` indexes both from the WARC.
    """

    def __init__(self, indexes_dir: str | Path) -> None:
        self.dir = Path(indexes_dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self._name: str | None = None
        self._fh = None
        self._indexable = True

    def _part(self, warc_name: str) -> Path:
        return self.dir / (warc_name[: -len(WARC_SUFFIX)] + INDEX_SUFFIX + PART_SUFFIX)

    def add(self, warc_name: str, entry: tuple, offset: int, length: int) -> None:
        """A record written at offset of warc_name (its closed name)."""
        if warc_name != self._name:
            self._start(warc_name)
        if entry is UNINDEXED:
            self._indexable = False
        elif self._indexable:
            self._fh.write(cdxj_line(entry, warc_name, offset, length))

    def _start(self, warc_name: str) -> None:
        self._drop()
        self._name, self._indexable = warc_name, True
        self._fh = open(self._part(warc_name), "w", encoding="utf-8")  # noqa: SIM115 - held across writes

    def _drop(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._part(self._name).unlink(missing_ok=True)
        self._fh = self._name = None

    def file_closed(self, warc_file: Path) -> None:
        """Sort the closed file's lines into its index (written after the WARC, so it is not stale)."""
        if self._name != warc_file.name or not self._indexable:
            self._drop()
            return
        part = self._part(self._name)
        self._fh.close()
        self._fh = None
        try:
            with open(part, encoding="utf-8") as fh:
                lines = sorted(fh)
            out = index_path(self.dir, warc_file)
            tmp = out.with_name(out.name + ".tmp")
            with open(tmp, "w", encoding="utf-8") as fh:
                fh.writelines(lines)
            os.replace(tmp, out)
        except FileNotFoundError:
            # another worker's update_indexes, sharing the directory, took the lines of a file no longer
            # `.open` for a killed crawl's: it indexes the file from the WARC instead
            logger.info("%s: live CDXJ lines gone; indexed from the WARC", warc_file)
        except OSError as exc:  # update_indexes indexes the file from the WARC instead
            logger.error("%s: cannot write the live CDXJ index: %s", warc_file, exc)
        finally:
            part.unlink(missing_ok=True)
            self._name = None

    def close(self) -> None:
        """Drop the lines of a file not closed (update_indexes indexes it once it is)."""
        self._drop()


def index_path(indexes_dir: Path, warc_file: Path) -> Path:
    """Where the index of one WARC file lives."""
    return indexes_dir / (warc_file.name[: -len(WARC_SUFFIX)] + INDEX_SUFFIX)


def _indexer_class() -> type:
    # imported when a file needs it (it loads pyamf, for AMF request bodies): a crawl indexes its own
    # files as it writes them and seldom needs cdxj-indexer at all
    from cdxj_indexer.main import CDXJIndexer

    class _Indexer(CDXJIndexer):
        # the wacz package appends "warcinfo" to CDXJIndexer.DEFAULT_RECORDS (a shared list) when it is
        # imported; an index is the same whichever modules the process has loaded, and the same as LiveIndex's
        DEFAULT_RECORDS = list(CDXJ_RECORDS)

    return _Indexer


def index_warc(warc_file: Path, out: Path) -> Path:
    """Index one WARC file into out (written beside it first, then moved into place)."""
    tmp = out.with_name(out.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        _indexer_class()(output=fh, inputs=[str(warc_file)], sort=True, post_append=True).process_all()
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
    open_warcs = {p.name[: -len(WARC_SUFFIX + OPEN_SUFFIX)] for p in (data_dir / "warc").glob(f"*{OPEN_SUFFIX}")}
    for part in indexes_dir.glob(f"*{INDEX_SUFFIX}{PART_SUFFIX}"):
        # a killed crawl's live lines; a running writer's file is still `.open`
        if part.name[: -len(INDEX_SUFFIX + PART_SUFFIX)] not in open_warcs:
            part.unlink(missing_ok=True)
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
