"""Build real catalogs for the catalog, stage and Datasette tests.

The seed reports (../shared/seeds/*.txt, hand-read truth in seeds/truth/) are archived as genuine WARC
response records in DATA_DIR/warc and registered through the catalog API, exactly as a crawl would;
reports come either from the parser stage or, where a test is about the catalog alone, from the truth.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from shared_support import ABSENT_REASON, shared_or_none
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

import catalog

SEEDS_DIR = shared_or_none("seeds") or Path("shared-is-absent")
PORTAL = {"id": "seeds", "agency": "种子报告", "url": "http://127.0.0.1:9/", "region": "230000", "level": "省"}
CAPTURED_AT = "2024-03-01T08:00:00Z"


@dataclass
class Seed:
    """One seed report: its text file, bytes, truth and the URL it is archived under."""

    name: str
    path: Path
    data: bytes
    truth: dict
    url: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def load_seeds() -> list[Seed]:
    """The seed reports with their truth JSON, in file order; skips the test when ../shared is absent."""
    if not SEEDS_DIR.is_dir():
        pytest.skip(ABSENT_REASON)
    seeds = []
    for path in sorted(SEEDS_DIR.glob("*.txt")):
        truth = json.loads((SEEDS_DIR / "truth" / f"{path.stem}.json").read_text(encoding="utf-8"))
        seeds.append(Seed(path.stem, path, path.read_bytes(), truth, f"http://127.0.0.1:9/reports/{path.stem}.txt"))
    return seeds


def write_warc(data_dir: Path, entries: list[tuple[str, bytes, str]], name: str = "seeds-00000.warc.gz",
               timestamp: str = CAPTURED_AT) -> list[dict]:
    """Write one gzipped WARC of response records for (url, body, content_type); return capture dicts."""
    warc_dir = Path(data_dir) / "warc"
    warc_dir.mkdir(parents=True, exist_ok=True)
    captures = []
    with open(warc_dir / name, "wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        for url, body, content_type in entries:
            headers = StatusAndHeaders("200 OK", [("Content-Type", content_type),
                                                  ("Content-Length", str(len(body)))], protocol="HTTP/1.1")
            record = writer.create_warc_record(
                url, "response", payload=io.BytesIO(body), http_headers=headers,
                warc_headers_dict={"WARC-Date": timestamp},
            )
            offset = fh.tell()
            writer.write_record(record)
            captures.append({
                "url": url, "timestamp": timestamp, "warc_type": "response",
                "record_id": record.rec_headers.get_header("WARC-Record-ID"), "status": 200,
                "content_type": content_type,
                "payload_digest": record.rec_headers.get_header("WARC-Payload-Digest"),
                "sha256": hashlib.sha256(body).hexdigest(), "warc_file": name, "offset": offset,
                "length": fh.tell() - offset, "portal_id": PORTAL["id"],
            })
    return captures


def archive_seeds(data_dir: Path, seeds: list[Seed]) -> dict[str, int]:
    """Archive the seeds in DATA_DIR (WARC + captures + documents); return seed name → document id."""
    db = catalog.open_catalog(Path(data_dir) / "catalog.db")
    catalog.load_portals(db, [PORTAL])
    crawl_id = catalog.record_crawl_start(db, "seeds.csv", {"DATA_DIR": str(data_dir)})
    captures = write_warc(data_dir, [(s.url, s.data, "text/plain; charset=utf-8") for s in seeds])
    doc_ids = {}
    for seed, capture in zip(seeds, captures, strict=True):
        catalog.record_capture(db, {**capture, "crawl_id": crawl_id})
        doc_ids[seed.name] = catalog.record_document(db, {
            "portal_id": PORTAL["id"], "url": seed.url, "kind": "attachment", "title": None,
            "year": seed.truth["year"], "content_type": "text/plain", "sha256": seed.sha256,
            "status": 200, "warc_record_id": capture["record_id"], "fetched_at": CAPTURED_AT,
        })
    catalog.record_crawl_end(db, crawl_id, {"documents": len(seeds)}, "finished")
    db.close()
    return doc_ids


def truth_report(seed: Seed) -> dict:
    """A ParsedReport-shaped dict built from a seed's truth (for catalog tests without the parser)."""
    truth = seed.truth
    return {
        "source": seed.url, "agency": truth["agency"], "year": truth["year"],
        "format_version": truth["format_version"],
        "title": f"{truth['agency']}{truth['year']}年政府信息公开工作年度报告",
        "sections": {"overview": seed.data.decode("utf-8")},
        "cells": truth["cells"],
        "findings": [{"rule": r, "detail": f"{r} fails", "cells": [], "delta": 1} for r in truth["failing_rules"]],
        "warnings": [], "content_type": "text/plain", "sha256": seed.sha256,
    }


def build_truth_catalog(data_dir: Path, parser_version: str = "truth") -> list[Seed]:
    """DATA_DIR with the seeds archived and one report per seed recorded from its truth."""
    seeds = load_seeds()
    doc_ids = archive_seeds(data_dir, seeds)
    db = catalog.open_catalog(Path(data_dir) / "catalog.db")
    for seed in seeds:
        catalog.record_report(db, doc_ids[seed.name], truth_report(seed), parser_version)
    db.close()
    return seeds
