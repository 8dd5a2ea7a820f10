"""The parser stage: parse every archived document the current parser version has not seen.

Each document's bytes are read back from the WARC files (never fetched again), parsed in a worker
process of its own with a time and a memory limit, and the result is recorded in the catalog: a report
with its cells and findings, or a parse failure with its reason. A document that fails, hangs or
exhausts its memory is recorded and the run goes on. Once a report is in, the cross-year rule
`t3.carry_link` is checked against the same agency's previous and next year.
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import catalog

DEFAULT_TIMEOUT_S = 180.0
DEFAULT_MEMORY_MB = 3072
CARRY_LINK_RULE = "t3.carry_link"


@dataclass
class StageLimits:
    """Per-document limits: wall-clock seconds and address-space megabytes of the worker process."""

    timeout_s: float = DEFAULT_TIMEOUT_S
    memory_mb: int = DEFAULT_MEMORY_MB

    @classmethod
    def from_env(cls) -> StageLimits:
        """Limits from NIANBAO_PARSE_TIMEOUT (seconds) and NIANBAO_PARSE_MEMORY_MB, else the defaults."""
        return cls(
            timeout_s=float(os.environ.get("NIANBAO_PARSE_TIMEOUT") or DEFAULT_TIMEOUT_S),
            memory_mb=int(os.environ.get("NIANBAO_PARSE_MEMORY_MB") or DEFAULT_MEMORY_MB),
        )


class DocumentFailure(Exception):
    """A document could not be read or parsed; the message is the reason recorded in the catalog."""


# --------------------------------------------------------------------------- reading archived bytes


def read_archived(data_dir: Path, doc: dict) -> bytes:
    """The archived payload of a documents_to_parse() row, read back through archive.reader."""
    from archive.reader import read_document

    try:
        return read_document(
            data_dir, url=doc.get("capture_url") or doc.get("url"), sha256=doc.get("sha256"),
            date=doc.get("capture_timestamp"),
        )
    except Exception as exc:
        raise DocumentFailure(f"cannot read archived bytes of {doc.get('url')}: {exc}") from exc


# --------------------------------------------------------------------------- parsing in a worker


def _address_space() -> int:
    """This process's virtual address space in bytes (Linux; 0 where /proc is missing)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0
    return pages * resource.getpagesize()


def _parse_worker(conn: Any, data: bytes, source: str, hints: dict, memory_mb: int) -> None:
    """Worker process body: apply the memory limit, parse, send ("ok", report) or ("error", reason)."""
    hard = resource.RLIM_INFINITY
    try:
        # The limit is on what parsing this document adds: the forked worker already maps the
        # parent's address space, and an absolute cap below that would fail only by chance.
        # Only the soft limit is set, so it can be lifted again to report the failure.
        hard = resource.getrlimit(resource.RLIMIT_AS)[1]
        limit = _address_space() + memory_mb * 1024 * 1024
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ValueError, OSError):
        pass  # a limit the platform refuses is no reason not to parse
    try:
        from nianbao.parse import parse_bytes

        outcome: tuple[str, Any] = ("ok", parse_bytes(data, source, hints))
    except MemoryError:
        outcome = ("error", f"memory limit of {memory_mb} MB exceeded")
    except Exception as exc:
        outcome = ("error", exc)
    try:
        resource.setrlimit(resource.RLIMIT_AS, (hard, hard))
    except (ValueError, OSError):
        pass
    if isinstance(outcome[1], Exception):
        exc = outcome[1]
        tail = traceback.format_exception(exc, limit=-3)[-3:]
        where = " | ".join(line.strip().replace("\n", " ") for line in tail)
        outcome = ("error", f"{type(exc).__name__}: {exc} [{where}]")
    try:
        conn.send(outcome)
    finally:
        conn.close()


def parse_with_limits(data: bytes, source: str, hints: dict, limits: StageLimits) -> Any:
    """Parse data in a forked worker process; raise DocumentFailure on error, timeout or a crashed worker."""
    ctx = multiprocessing.get_context("fork")
    receiver, sender = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_parse_worker, args=(sender, data, source, hints, limits.memory_mb), daemon=True)
    proc.start()
    sender.close()
    try:
        if not receiver.poll(limits.timeout_s):
            raise DocumentFailure(f"timed out after {limits.timeout_s:g} s")
        try:
            status, payload = receiver.recv()
        except EOFError as exc:
            proc.join(5)
            raise DocumentFailure(f"parser worker died (exit code {proc.exitcode})") from exc
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join(5)
        receiver.close()
    if status != "ok":
        raise DocumentFailure(payload)
    return payload


# --------------------------------------------------------------------------- cross-year rule


def check_carry_link(db: Any, report_id: int) -> list[int]:
    """Check t3.carry_link between report_id and the same agency's previous and next current reports.

    The finding goes on the later report of each pair: its carried_over (上年结转) should equal the
    earlier report's carried_forward (结转下年度继续办理), column by column; the equation itself is the
    template's (nianbao.parse.rules). Returns the ids of reports whose carry_link findings were (re)written.
    """
    row = db.execute("select coalesce(agency_id, agency), year, is_current, agency_id is not null "
                     "from reports where id = ?", [report_id]).fetchone()
    if not row or not row[0] or not row[1] or not row[2]:
        return []
    body, year, _, by_agency = row
    # The same body across its name variants (agencies), or by its printed name when it has none.
    column = "agency_id" if by_agency else "agency"

    def current(y: int) -> int | None:
        found = db.execute(
            f"select id from reports where {column} = ? and year = ? and is_current = 1 order by id desc limit 1",
            [body, y],
        ).fetchone()
        return found[0] if found else None

    from nianbao.parse.rules import check_carry_link as carry_link_findings

    touched = []
    for earlier, later in ((current(year - 1), report_id), (report_id, current(year + 1))):
        if earlier is None or later is None:
            continue
        version = db.execute("select format_version from reports where id = ?", [later]).fetchone()[0]
        findings = carry_link_findings(catalog.report_cells(db, later), catalog.report_cells(db, earlier), version)
        for finding in findings:
            finding["detail"] += f" (previous year: report {earlier})"
        catalog.replace_findings(db, later, CARRY_LINK_RULE, findings)
        touched.append(later)
    return touched


# --------------------------------------------------------------------------- the stage


def _hints(doc: dict) -> dict:
    hints = {k: doc.get(k) for k in ("title", "year", "published") if doc.get(k) not in (None, "")}
    agency = doc.get("publisher") or doc.get("portal_agency")
    if agency:
        hints["agency"] = agency
    return hints


def run_stage(data_dir: Path, limit: int | None = None, limits: StageLimits | None = None) -> dict:
    """Parse every archived document not yet parsed by nianbao.PARSER_VERSION into the catalog.

    Returns a summary: parser_version, candidates, parsed, failed, carry_link_checked, seconds, and
    `failures` (document id, URL, reason) for the documents that could not be parsed.
    """
    # Imported once here so every forked worker starts with the parser already loaded.
    import nianbao.parse  # noqa: F401
    from nianbao import PARSER_VERSION

    data_dir = Path(data_dir)
    limits = limits or StageLimits.from_env()
    started = time.monotonic()
    db = catalog.open_catalog(data_dir / "catalog.db")
    try:
        todo = catalog.documents_to_parse(db, PARSER_VERSION)
        portal_agency = {pid: agency for pid, agency in db.execute("select id, agency from portals")}
        if limit is not None:
            todo = todo[:limit]
        summary: dict[str, Any] = {
            "parser_version": PARSER_VERSION, "candidates": len(todo), "parsed": 0, "failed": 0,
            "carry_link_checked": 0, "failures": [],
        }
        for doc in todo:
            doc["portal_agency"] = portal_agency.get(doc.get("portal_id"))
            source = doc.get("url") or doc.get("capture_url") or f"sha256:{doc['sha256']}"
            try:
                data = read_archived(data_dir, doc)
                parsed = parse_with_limits(data, source, _hints(doc), limits)
                report_id = catalog.record_report(db, doc["id"], parsed, PARSER_VERSION)
            except Exception as exc:  # one bad document never stops the stage
                reason = str(exc) if isinstance(exc, DocumentFailure) else f"{type(exc).__name__}: {exc}"
                catalog.record_parse_failure(db, doc["id"], PARSER_VERSION, reason)
                summary["failed"] += 1
                summary["failures"].append({"document_id": doc["id"], "url": source, "reason": reason})
                continue
            summary["parsed"] += 1
            summary["carry_link_checked"] += len(check_carry_link(db, report_id))
        summary["agencies"] = catalog.refresh_bodies(db)
        summary["seconds"] = round(time.monotonic() - started, 2)
        return summary
    finally:
        db.close()
