"""The parser stage: parse every archived document the current parser version has not seen.

Each document's bytes are read back from the WARC files (never fetched again), parsed in a worker
process of its own with a time and a memory limit, and the result is recorded in the catalog: a report
with its cells and findings, or a parse failure with its reason. A document that fails, hangs or
exhausts its memory is recorded and the run goes on. Once a report is in, the cross-year rule
`t3.carry_link` is checked against the same agency's previous and next year.

A failure's reason starts with its cause: `memory limit`, `time limit`, `encrypted PDF`, `truncated
input` (the crawl cut the body at its size cap: never parsed as if complete), `decoded size limit`
(the archived payload inflates past the cap: read back streamed, never inflated whole, so a gzip bomb
costs this process no more than the cap), `not a report` (bytes no reader recognises), then the detail.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import resource
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import catalog

DEFAULT_TIMEOUT_S = 180.0
DEFAULT_MEMORY_MB = 3072
DEFAULT_MAX_DECODED_MB = 200
CARRY_LINK_RULE = "t3.carry_link"
# The causes a failure reason starts with.
MEMORY_LIMIT = "memory limit"
TIME_LIMIT = "time limit"
ENCRYPTED_PDF = "encrypted PDF"
TRUNCATED_INPUT = "truncated input"
DECODED_SIZE_LIMIT = "decoded size limit"
NOT_A_REPORT = "not a report"
# How close to its address-space limit a worker must have come for a failure to count as a memory overrun.
_MEMORY_MARGIN = 0.9


@dataclass
class StageLimits:
    """Per-document limits: wall-clock seconds and address-space megabytes of the worker process."""

    timeout_s: float = DEFAULT_TIMEOUT_S
    memory_mb: int = DEFAULT_MEMORY_MB
    max_decoded_mb: int = DEFAULT_MAX_DECODED_MB

    @classmethod
    def from_env(cls) -> StageLimits:
        """Limits from NIANBAO_PARSE_TIMEOUT (seconds), NIANBAO_PARSE_MEMORY_MB and
        NIANBAO_PARSE_MAX_DECODED_MB (what an archived payload may decode to), else the defaults."""
        return cls(
            timeout_s=float(os.environ.get("NIANBAO_PARSE_TIMEOUT") or DEFAULT_TIMEOUT_S),
            memory_mb=int(os.environ.get("NIANBAO_PARSE_MEMORY_MB") or DEFAULT_MEMORY_MB),
            max_decoded_mb=int(os.environ.get("NIANBAO_PARSE_MAX_DECODED_MB") or DEFAULT_MAX_DECODED_MB),
        )


class DocumentFailure(Exception):
    """A document could not be read or parsed; the message is the reason recorded in the catalog."""


# --------------------------------------------------------------------------- reading archived bytes


def truncation(db: Any, doc: dict) -> dict | None:
    """The truncated capture a documents row stands for, or None when a complete copy is archived.

    A body the crawl cut at its size cap (WARC-Truncated) is a prefix: parsing it as the document would
    record a wrong report, and two different files with the same prefix would pass for one.
    """
    # `disconnect`: the body ended with the connection, without a Content-Length; usually whole, so parsed
    complete = db.execute(
        "select 1 from captures where sha256 = ? and truncated is null "
        "and warc_type in ('response', 'resource', 'conversion') limit 1", [doc.get("sha256")]).fetchone()
    if complete:
        return None
    row = db.execute(
        "select url, truncated, length, record_id from captures where truncated is not null and "
        "(record_id = ? or sha256 = ?) order by truncated = 'length' desc, record_id = ? desc limit 1",
        [doc.get("warc_record_id"), doc.get("sha256"), doc.get("warc_record_id")]).fetchone()
    if row is None or row[1] == "disconnect":
        return None
    return {"url": row[0], "truncated": row[1], "length": row[2], "record_id": row[3]}


def read_archived(data_dir: Path, doc: dict, max_decoded_mb: int = DEFAULT_MAX_DECODED_MB) -> bytes:
    """The archived payload of a documents_to_parse() row, read back through archive.reader (capped)."""
    from archive.reader import DecodedSizeError, read_document

    try:
        return read_document(
            data_dir, url=doc.get("capture_url") or doc.get("url"), sha256=doc.get("sha256"),
            date=doc.get("capture_timestamp"), max_decoded=max_decoded_mb * 1024 * 1024,
        )
    except DecodedSizeError as exc:
        raise DocumentFailure(f"{DECODED_SIZE_LIMIT}: {doc.get('url')}: {exc}") from exc
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
    base, peak_before = _address_space(), _peak_address_space()
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
        near = _came_near(base, peak_before, memory_mb)
        outcome = ("error", failure_reason(outcome[1], data, memory_mb, near))
    try:
        conn.send(outcome)
    finally:
        conn.close()


def _peak_address_space() -> int:
    """This process's peak virtual address space in bytes (VmPeak; 0 where /proc is missing)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmPeak:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _came_near(base: int, peak_before: int, memory_mb: int) -> bool:
    """True when parsing took this process's address space to most of its limit (base + memory_mb).

    A forked worker inherits its parent's peak, so only a peak that grew while parsing counts.
    """
    peak = _peak_address_space()
    return bool(base) and peak > peak_before and peak >= base + memory_mb * 1024 * 1024 * _MEMORY_MARGIN


def _causes(exc: BaseException) -> list[BaseException]:
    chain, seen = [], set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        chain.append(exc)
        exc = exc.__cause__ or exc.__context__
    return chain


def _ends_early(data: bytes) -> str | None:
    """What a file lacks at its end when it was cut short: a PDF's %%EOF, a zip's central directory."""
    if data[:5] == b"%PDF-" and b"%%EOF" not in data[-4096:]:
        return "the PDF ends without %%EOF"
    if data[:4] == b"PK\x03\x04" and b"PK\x05\x06" not in data[-65600:]:
        return "the zip package ends without its central directory"
    return None


def _is_encrypted_pdf(data: bytes) -> bool:
    # the trailer (or a cross-reference stream) names the security handler: /Encrypt n 0 R
    return data[:5] == b"%PDF-" and b"/Encrypt" in data[-65536:] + data[:65536]


# What a reader's own size caps (zip members, decompressed streams) say when they refuse a bomb.
_SIZE_CAP_WORDS = re.compile(r"too (?:large|big)|exceed|size (?:limit|cap)|compression ratio|\bbomb\b", re.I)


def failure_reason(exc: BaseException, data: bytes, memory_mb: int, near_memory_limit: bool = False) -> str:
    """The parse failure reason for exc: its cause first (see the module docstring), then the detail.

    A reader that runs out of memory inside a C library (lxml, pdfminer's decoders) often reports a
    malformed document instead of a MemoryError; a worker that came near its limit is a memory overrun.
    """
    chain = _causes(exc)
    tail = traceback.format_exception(exc, limit=-3)[-3:]
    where = " | ".join(line.strip().replace("\n", " ") for line in tail)
    detail = f"{type(exc).__name__}: {exc} [{where}]"
    names = " ".join(type(e).__name__ for e in chain)
    if any(isinstance(e, MemoryError) for e in chain) or near_memory_limit:
        return f"memory limit of {memory_mb} MB exceeded ({detail})"
    if any(isinstance(e, TimeoutError) for e in chain):
        return f"{TIME_LIMIT}: {exc}"
    if "Password" in names or "Encrypt" in names or (
            _is_encrypted_pdf(data) and any("pdf" in type(e).__module__.lower() or "PDF" in str(e) for e in chain)):
        return f"{ENCRYPTED_PDF}: the document is encrypted and cannot be opened without its password ({detail})"
    if any(type(e).__name__ == "ReaderError" and "no reader for document type" in str(e) for e in chain):
        return f"{NOT_A_REPORT}: {exc}"
    if any(_SIZE_CAP_WORDS.search(str(e)) for e in chain):
        return f"{DECODED_SIZE_LIMIT}: {exc}"
    cut = _ends_early(data)
    if cut:
        return f"{TRUNCATED_INPUT}: {cut} ({detail})"
    return detail


def parse_with_limits(data: bytes, source: str, hints: dict, limits: StageLimits) -> Any:
    """Parse data in a forked worker process; raise DocumentFailure on error, timeout or a crashed worker."""
    ctx = multiprocessing.get_context("fork")
    receiver, sender = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_parse_worker, args=(sender, data, source, hints, limits.memory_mb), daemon=True)
    proc.start()
    sender.close()
    try:
        if not receiver.poll(limits.timeout_s):
            raise DocumentFailure(f"{TIME_LIMIT}: timed out after {limits.timeout_s:g} s")
        try:
            status, payload = receiver.recv()
        except EOFError as exc:
            proc.join(5)
            if proc.exitcode == -9:  # SIGKILL: in practice the kernel's out-of-memory killer
                raise DocumentFailure("memory limit: parser worker killed by SIGKILL (out of memory)") from exc
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

    from nianbao.parse.messages import finding_clause
    from nianbao.parse.rules import check_carry_link as carry_link_findings

    touched = []
    for earlier, later in ((current(year - 1), report_id), (report_id, current(year + 1))):
        if earlier is None or later is None:
            continue
        version = db.execute("select format_version from reports where id = ?", [later]).fetchone()[0]
        findings = carry_link_findings(catalog.report_cells(db, later), catalog.report_cells(db, earlier), version)
        for finding in findings:
            finding["detail"] += finding_clause("previous_report", report=earlier)
        catalog.replace_findings(db, later, CARRY_LINK_RULE, findings)
        touched.append(later)
    return touched


# --------------------------------------------------------------------------- the stage


def _hints(doc: dict) -> dict:
    hints = {k: doc.get(k) for k in ("title", "year", "published", "content_type") if doc.get(k) not in (None, "")}
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
                cut = truncation(db, doc)
                if cut is not None:
                    raise DocumentFailure(
                        f"{TRUNCATED_INPUT}: only a prefix of {cut['url']} is archived (WARC-Truncated: "
                        f"{cut['truncated']}, record {cut['record_id']}); not parsed as a complete document")
                data = read_archived(data_dir, doc, limits.max_decoded_mb)
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
