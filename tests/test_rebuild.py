"""`nianbao catalog rebuild --from-warc`: the WARC files alone give back the crawl-time catalog.

One crawl of a sample portal, then the parser stage; a catalog rebuilt from the crawl's WARC files (and
parsed the same way) holds the same captures, documents, document URLs, reports and cells.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from warc_support import ROOT, crawl_portals

from archive.stage import run_stage
from catalog import open_catalog
from catalog.merge import catalog_contents
from catalog.rebuild import warc_records
from nianbao.sample_portals.server import SamplePortals


@pytest.fixture(scope="module")
def crawled(tmp_path_factory) -> dict:
    work = tmp_path_factory.mktemp("rebuild")
    data = work / "data"
    with SamplePortals(registry_path=work / "portals.csv") as portals:
        # small batches, so rows and documents are written in several batches during the crawl
        crawl = crawl_portals(portals.registry, data, "-a", "only=sample-gbk,sample-hanweb",
                              "-s", "WARC_CATALOG_BATCH_ROWS=7", "-s", "CATALOG_BATCH_ROWS=3")
    assert crawl.returncode == 0, crawl.stderr[-3000:]
    run_stage(data)
    return {"work": work, "data": data, "registry": work / "portals.csv"}


def _nianbao(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "nianbao.cli", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def test_rebuilt_catalog_equals_the_crawl_time_one(crawled) -> None:
    data, work = crawled["data"], crawled["work"]
    rebuilt_dir = work / "rebuilt"
    rebuilt_dir.mkdir()
    (rebuilt_dir / "warc").symlink_to(data / "warc")
    result = _nianbao("catalog", "rebuild", "--from-warc", "--data", str(data), "--portals",
                      str(crawled["registry"]), "--out", str(rebuilt_dir / "catalog.db"))
    assert result.returncode == 0, result.stderr[-3000:]
    counts = json.loads(result.stdout)
    run_stage(rebuilt_dir)

    original, rebuilt = open_catalog(data / "catalog.db"), open_catalog(rebuilt_dir / "catalog.db")
    expected, got = catalog_contents(original), catalog_contents(rebuilt)
    assert len(expected["captures"]) > 50 and len(expected["documents"]) > 10 and len(expected["reports"]) >= 4
    assert counts["captures"] == len(expected["captures"])
    for table in ("captures", "documents", "document_urls", "reports", "cells"):
        assert got[table] == expected[table], table
    # the crawl-time catalog's captures agree with the files they point at
    assert original.execute("select count(distinct warc_file) from captures").fetchone()[0] == counts["files"]


def test_rebuild_refuses_to_overwrite_and_names_a_missing_archive(crawled, tmp_path) -> None:
    exists = _nianbao("catalog", "rebuild", "--from-warc", "--data", str(crawled["data"]),
                      "--out", str(crawled["data"] / "catalog.db"))
    assert exists.returncode == 2 and "catalog.db: exists" in exists.stderr
    empty = _nianbao("catalog", "rebuild", "--from-warc", "--data", str(tmp_path))
    assert empty.returncode == 2 and "no closed WARC files" in empty.stderr
    assert not (tmp_path / "catalog.rebuilt.db").exists()


def test_rows_lost_with_a_killed_crawl_are_listed_again_from_the_warc(crawled, tmp_path) -> None:
    """The catalog batches rows; what a SIGKILL left unlisted comes back from the repaired file."""
    from archive.capture import ExchangeArchive

    data = tmp_path / "data"
    (data / "warc").mkdir(parents=True)
    source = sorted((crawled["data"] / "warc").glob("*.warc.gz"))[0]
    # the file as a killed crawl leaves it: still .open, none of its rows in the catalog
    (data / "warc" / (source.name + ".open")).write_bytes(source.read_bytes())
    archive = ExchangeArchive(data, "test", 1 << 30, {})
    try:
        listed = archive.reconcile()
        rows = archive.db.execute("select count(*) from captures where warc_file = ?", [source.name]).fetchone()[0]
        documents = {r[0] for r in archive.db.execute("select sha256 from documents")}
    finally:
        archive.close()
    original = open_catalog(crawled["data"] / "catalog.db")
    expected = original.execute("select count(*) from captures where warc_file = ?", [source.name]).fetchone()[0]
    assert listed == rows == expected > 0
    # documents still queued in the pipeline's batch come back too: from the file's metadata records
    described = {document["sha256"] for _, document in warc_records(source) if document}
    assert described and documents == described
    assert described <= {r[0] for r in original.execute("select sha256 from documents")}
