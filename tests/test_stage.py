"""The parser stage: archived bytes → parse in a limited worker → catalog; cross-year carry-over."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from catalog_builders import CAPTURED_AT, PORTAL, archive_seeds, load_seeds, truth_report, write_warc

import catalog
import nianbao
from archive import stage


@pytest.fixture(scope="module")
def parse_bytes():
    """The parser's entry point; these tests need it."""
    module = pytest.importorskip("nianbao.parse")
    if not hasattr(module, "parse_bytes"):
        pytest.skip("nianbao.parse.parse_bytes is not available")
    return module.parse_bytes


@pytest.fixture(scope="module")
def staged(tmp_path_factory, parse_bytes):
    """The seeds archived and run through the stage once; returns (data_dir, seeds, doc ids, summary)."""
    data_dir = tmp_path_factory.mktemp("staged")
    seeds = load_seeds()
    doc_ids = archive_seeds(data_dir, seeds)
    summary = stage.run_stage(data_dir)
    return data_dir, seeds, doc_ids, summary


def test_stage_records_what_the_parser_reads_from_the_archive(staged, parse_bytes):
    data_dir, seeds, doc_ids, summary = staged
    assert (summary["candidates"], summary["parsed"], summary["failed"]) == (len(seeds), len(seeds), 0)
    db = catalog.open_catalog(data_dir / "catalog.db")
    for seed in seeds:
        report = db.execute("select * from reports where document_id = ?", [doc_ids[seed.name]]).fetchone()
        assert report is not None, seed.name
        row = db["reports"].get(report[0])
        direct = parse_bytes(seed.data, seed.url, {"year": seed.truth["year"]})
        assert catalog.report_cells(db, row["id"]) == direct.cells, seed.name
        stored_rules = sorted(r[0] for r in db.execute(
            "select rule from findings where report_id = ? and rule != 't3.carry_link'", [row["id"]]))
        assert stored_rules == sorted(f["rule"] for f in direct.findings)
        assert (row["agency"], row["year"], row["parser_version"], row["is_current"]) == (
            direct.agency, seed.truth["year"], nianbao.PARSER_VERSION, 1)
        assert row["sha256"] == seed.sha256 and row["archived_at"] == CAPTURED_AT
    # The seeds' own truth: the hand-read headline numbers arrive in the catalog.
    for seed in seeds:
        summary_row = next(db.query("select * from report_summary where agency = ? and year = ?",
                                    [seed.truth["agency"], seed.truth["year"]]))
        assert summary_row["new_requests"] == seed.truth["cells"]["t3.new_received.total"]
    db.close()


def test_stage_is_incremental_and_a_parser_version_bump_reparses(staged, monkeypatch):
    data_dir, seeds, _, _ = staged
    again = stage.run_stage(data_dir)
    assert (again["candidates"], again["parsed"]) == (0, 0)
    monkeypatch.setattr(nianbao, "PARSER_VERSION", "bumped")
    bumped = stage.run_stage(data_dir, limit=2)
    assert (bumped["candidates"], bumped["parsed"]) == (2, 2)
    db = catalog.open_catalog(data_dir / "catalog.db")
    versions = db.execute("select parser_version, count(*), sum(is_current) from reports group by 1 order by 1")
    assert versions.fetchall() == [("1", len(seeds), len(seeds) - 2), ("bumped", 2, 2)]
    db.close()


def test_failing_and_slow_documents_are_recorded_and_the_run_goes_on(tmp_path, parse_bytes):
    seeds = load_seeds()[:2]
    archive_seeds(tmp_path, seeds)
    db = catalog.open_catalog(tmp_path / "catalog.db")
    # A document whose WARC file has gone missing.
    gone = write_warc(tmp_path, [("http://127.0.0.1:9/gone.txt", b"gone", "text/plain")], name="gone.warc.gz")[0]
    catalog.record_capture(db, gone)
    gone_id = catalog.record_document(db, {"portal_id": PORTAL["id"], "url": gone["url"], "kind": "attachment",
                                           "sha256": gone["sha256"], "fetched_at": CAPTURED_AT})
    (tmp_path / "warc" / "gone.warc.gz").unlink()
    # A document far too large to parse within the time limit.
    huge_body = seeds[0].data * 2000
    huge = write_warc(tmp_path, [("http://127.0.0.1:9/huge.txt", huge_body, "text/plain")], name="huge.warc.gz")[0]
    catalog.record_capture(db, huge)
    huge_id = catalog.record_document(db, {"portal_id": PORTAL["id"], "url": huge["url"], "kind": "attachment",
                                           "sha256": huge["sha256"], "fetched_at": CAPTURED_AT})
    db.close()

    summary = stage.run_stage(tmp_path, limits=stage.StageLimits(timeout_s=1.0, memory_mb=4096))
    assert (summary["parsed"], summary["failed"]) == (2, 2)
    reasons = {f["document_id"]: f["reason"] for f in summary["failures"]}
    assert "gone.txt" in reasons[gone_id]
    assert "timed out after 1 s" in reasons[huge_id]
    db = catalog.open_catalog(tmp_path / "catalog.db")
    stored = {r["document_id"]: r["reason"] for r in db["parse_failures"].rows}
    assert stored == reasons
    assert catalog.documents_to_parse(db, nianbao.PARSER_VERSION) == []
    db.close()


def test_memory_limit_stops_a_document_not_the_run(tmp_path, parse_bytes):
    # A 20 MB document cannot even be decoded within 1 MB more address space.
    body = load_seeds()[0].data * 3000
    capture = write_warc(tmp_path, [("http://127.0.0.1:9/big.txt", body, "text/plain")], name="big.warc.gz")[0]
    db = catalog.open_catalog(tmp_path / "catalog.db")
    catalog.record_capture(db, capture)
    catalog.record_document(db, {"portal_id": PORTAL["id"], "url": capture["url"], "kind": "attachment",
                                 "sha256": capture["sha256"], "fetched_at": CAPTURED_AT})
    db.close()
    # The stage runs as `nianbao parse --data` does, in a process of its own: a worker forked from
    # this long-lived test process would inherit a heap with room enough to parse without growing.
    result = subprocess.run([sys.executable, "-m", "nianbao.cli", "parse", "--data", str(tmp_path), "--json"],
                            capture_output=True, text=True, timeout=120,
                            env={**os.environ, "NIANBAO_PARSE_MEMORY_MB": "1"})
    summary = json.loads(result.stdout)
    assert (summary["parsed"], summary["failed"]) == (0, 1), result.stderr
    assert summary["failures"][0]["reason"] == "memory limit of 1 MB exceeded"


def _year_report(seed, year: int, carried_over: dict | None = None, forward: dict | None = None) -> dict:
    report = truth_report(seed)
    report["year"] = year
    cells = dict(report["cells"])
    for column, value in (carried_over or {}).items():
        cells[f"t3.carried_over.{column}"] = value
    for column, value in (forward or {}).items():
        cells[f"t3.carried_forward.{column}"] = value
    report["cells"] = cells
    return report


def _doc(db, n: int, year: int) -> int:
    return catalog.record_document(db, {"portal_id": PORTAL["id"], "url": f"http://127.0.0.1:9/{n}.html",
                                        "kind": "report_page", "sha256": f"{n:064x}", "year": year,
                                        "fetched_at": f"2024-0{n}-01T00:00:00Z"})


def test_carry_link_is_checked_across_years_in_either_order(tmp_path):
    seed = load_seeds()[4]
    db = catalog.open_catalog(tmp_path / "catalog.db")
    catalog.load_portals(db, [PORTAL])
    # The later year arrives first: nothing to compare with yet.
    later = catalog.record_report(db, _doc(db, 1, 2024),
                                  _year_report(seed, 2024, carried_over={"natural_person": 5, "total": 5}), "1")
    assert stage.check_carry_link(db, later) == []
    earlier = catalog.record_report(db, _doc(db, 2, 2023),
                                    _year_report(seed, 2023, forward={"natural_person": 3, "total": 3}), "1")
    assert stage.check_carry_link(db, earlier) == [later]
    findings = list(db.query("select * from findings where rule = 't3.carry_link' order by id"))
    assert [(f["report_id"], f["delta"]) for f in findings] == [(later, 2.0), (later, 2.0)]
    assert [json.loads(f["cells"]) for f in findings] == [
        [f"t3.carried_over.{c}", f"t3.carried_forward.{c}"] for c in ("natural_person", "total")]
    assert all(f["detail"].endswith(f"（上一年度：报告 {earlier}）") for f in findings)
    # A corrected re-issue of the later year that agrees clears the finding; the old version keeps its own.
    fixed = catalog.record_report(db, _doc(db, 3, 2024),
                                  _year_report(seed, 2024, carried_over={"natural_person": 3, "total": 3}), "1")
    assert stage.check_carry_link(db, fixed) == [fixed]
    assert db.execute("select count(*) from findings where rule = 't3.carry_link' and report_id = ?",
                      [fixed]).fetchone()[0] == 0
    assert db.execute("select count(*) from findings where rule = 't3.carry_link' and report_id = ?",
                      [later]).fetchone()[0] == 2
    db.close()


def test_stage_on_an_empty_catalog(tmp_path, parse_bytes):
    summary = stage.run_stage(tmp_path)
    assert (summary["candidates"], summary["parsed"], summary["failed"]) == (0, 0, 0)
    assert (tmp_path / "catalog.db").exists()
