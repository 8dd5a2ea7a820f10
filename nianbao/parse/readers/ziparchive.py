"""Zip attachments (附件.zip holding the report as PDF, DOCX, …): opened in memory, within fixed bounds.

A portal's zip is untrusted: the member count, each member's decoded size and the total decoded size
are capped while decompressing (the sizes the archive declares are not believed), nested zips are
followed to a bounded depth, nothing is extracted to disk and member names are only ever shown, never
used as paths. The members that are documents are ranked (a name that says 年度报告, then the format)
and read in that order; the first that holds the template's tables is the report, the others are named
in the warnings.
"""

from __future__ import annotations

import io
import os
import zipfile
import zlib
from dataclasses import dataclass

from nianbao.parse.layout import Layout
from nianbao.parse.messages import names
from nianbao.parse.messages import warning as message

MAX_MEMBERS = 200  # entries in one archive (directories included)
MAX_MEMBER_BYTES = 64 * 1024 * 1024  # decoded size of one member
MAX_TOTAL_BYTES = 256 * 1024 * 1024  # decoded size of everything read, nested archives included
MAX_DEPTH = 3  # a zip inside a zip inside the attachment, and no deeper
MAX_REPORT_READS = 4  # members read before giving up on finding the template tables
_CHUNK = 1024 * 1024

# formats a report can come in, best first: the order breaks ties between members of equal name score
_REPORT_KINDS = ("docx", "pdf", "ofd", "doc", "wps", "html", "txt", "image")
_REPORT_WORDS = ("年度报告", "年报", "政府信息公开", "工作报告")


class ZipReadError(ValueError):
    """The archive is damaged, over its bounds (a zip bomb), or holds no readable report."""


@dataclass(frozen=True)
class ZipLimits:
    """The bounds an archive is read within; `from_env` reads NIANBAO_ZIP_* overrides."""

    max_members: int = MAX_MEMBERS
    max_member_bytes: int = MAX_MEMBER_BYTES
    max_total_bytes: int = MAX_TOTAL_BYTES
    max_depth: int = MAX_DEPTH

    @classmethod
    def from_env(cls) -> ZipLimits:
        """Defaults, overridden by NIANBAO_ZIP_MAX_MEMBERS, _MAX_MEMBER_MB, _MAX_TOTAL_MB, _MAX_DEPTH."""
        env = os.environ.get
        mb = 1024 * 1024
        return cls(
            max_members=int(env("NIANBAO_ZIP_MAX_MEMBERS") or MAX_MEMBERS),
            max_member_bytes=int(float(env("NIANBAO_ZIP_MAX_MEMBER_MB") or MAX_MEMBER_BYTES / mb) * mb),
            max_total_bytes=int(float(env("NIANBAO_ZIP_MAX_TOTAL_MB") or MAX_TOTAL_BYTES / mb) * mb),
            max_depth=int(env("NIANBAO_ZIP_MAX_DEPTH") or MAX_DEPTH),
        )


@dataclass
class Member:
    """One document found in the archive: its shown name (nested path joined by "!"), type and bytes."""

    name: str
    kind: str
    data: bytes


def member_name(info: zipfile.ZipInfo) -> str:
    """The member's name as its author wrote it, for display only.

    Archives made on Chinese Windows store GBK names without the UTF-8 flag; zipfile then decodes them
    as cp437, which is undone here.
    """
    name = info.filename
    if not info.flag_bits & 0x800:
        try:
            name = name.encode("cp437").decode("gb18030")
        except (UnicodeEncodeError, UnicodeDecodeError):
            pass
    # control characters and path tricks stay visible but harmless in a warning
    return "".join(ch if ch.isprintable() else "?" for ch in name)


class _Budget:
    def __init__(self, limits: ZipLimits) -> None:
        self.limits = limits
        self.total = 0


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, shown: str, budget: _Budget) -> bytes:
    """Decompress one member, counting what actually comes out against both caps."""
    limits = budget.limits
    out = bytearray()
    with archive.open(info) as stream:
        while True:
            chunk = stream.read(_CHUNK)
            if not chunk:
                break
            out += chunk
            budget.total += len(chunk)
            if len(out) > limits.max_member_bytes:
                raise ZipReadError(
                    f"zip bomb refused: member {shown!r} decodes to more than {limits.max_member_bytes} bytes "
                    f"(per-member cap; {info.compress_size} bytes compressed)"
                )
            if budget.total > limits.max_total_bytes:
                raise ZipReadError(
                    f"zip bomb refused: members decode to more than {limits.max_total_bytes} bytes in total "
                    f"(total cap, reached at {shown!r})"
                )
    return bytes(out)


def list_documents(data: bytes, limits: ZipLimits | None = None, source: str = "zip") -> tuple[list[Member], list[str]]:
    """Every document inside the archive (nested zips opened), and notes on members left aside.

    Raises ZipReadError for a damaged archive or one over its bounds.
    """
    from nianbao.parse.sniff import sniff

    budget = _Budget(limits or ZipLimits.from_env())
    members: list[Member] = []
    notes: list[str] = []

    def walk(blob: bytes, prefix: str, depth: int) -> None:
        try:
            archive = zipfile.ZipFile(io.BytesIO(blob))
            infos = archive.infolist()
        except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError) as exc:
            raise ZipReadError(f"{source}: {prefix or 'the attachment'} is not a readable zip ({exc})") from exc
        if len(infos) > budget.limits.max_members:
            raise ZipReadError(
                f"zip bomb refused: {prefix or 'the archive'} has {len(infos)} entries "
                f"(cap {budget.limits.max_members})"
            )
        for info in infos:
            shown = prefix + member_name(info)
            if info.is_dir():
                continue
            if info.flag_bits & 0x1:
                notes.append(f"{shown}: encrypted, not read")
                continue
            try:
                body = _read_member(archive, info, shown, budget)
            except (zipfile.BadZipFile, NotImplementedError, EOFError, OSError, zlib.error) as exc:
                # a corrupt member (bad CRC, unsupported method) is noted; the others may still hold the report
                notes.append(f"{shown}: unreadable ({exc.__class__.__name__}: {exc})")
                continue
            kind = sniff(body)
            if kind == "zip":
                if depth + 1 >= budget.limits.max_depth:
                    raise ZipReadError(
                        f"zip bomb refused: {shown!r} nests archives deeper than {budget.limits.max_depth} levels"
                    )
                walk(body, shown + "!", depth + 1)
            elif kind in _REPORT_KINDS:
                members.append(Member(shown, kind, body))
            else:
                notes.append(f"{shown}: not a document ({kind})")

    walk(data, "", 0)
    return members, notes


def _rank(member: Member) -> tuple[int, int, int]:
    words = sum(word in member.name for word in _REPORT_WORDS)
    return (-words, _REPORT_KINDS.index(member.kind), -len(member.data))


def read(data: bytes, source: str = "zip") -> Layout:
    """Read the report inside a zip attachment: the best-ranked member that holds template tables."""
    from nianbao.parse.mapper import map_layout
    from nianbao.parse.readers import read as read_document

    members, notes = list_documents(data, source=source)
    if not members:
        detail = "; ".join(notes) if notes else "the archive is empty"
        raise ZipReadError(f"{source}: no report document in the zip ({detail})")
    ranked = sorted(members, key=_rank)
    chosen: tuple[Member, Layout] | None = None
    problems: list[str] = []
    for member in ranked[:MAX_REPORT_READS]:
        try:
            layout = read_document(member.data, member.kind, source=f"{source}!{member.name}")
        except Exception as exc:  # one bad member must not hide a good one
            problems.append(f"{member.name}: {exc}")
            continue
        if chosen is None:
            chosen = (member, layout)
        if map_layout(layout).version is not None:
            chosen = (member, layout)
            break
    if chosen is None:
        raise ZipReadError(f"{source}: no member of the zip could be read ({'; '.join(problems)})")
    member, layout = chosen
    warnings = [message("zip.member_read", source, name=member.name, kind=member.kind)]
    others = [f"{m.name}（{m.kind}）" for m in ranked if m is not member]
    if others:
        warnings.append(message("zip.others_not_parsed", source, members=names(others)))
    warnings += [message("zip.member_problem", source, problem=p) for p in problems + notes]
    return Layout(lines=layout.lines, kind="zip", warnings=warnings + layout.warnings)
