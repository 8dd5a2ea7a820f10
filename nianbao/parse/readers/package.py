"""Zip-based document packages (DOCX, OFD) opened within the same bounds as zip attachments.

A DOCX or OFD file is a zip: its parts are decompressed here chunk by chunk, and the entry count, each
part's decoded size and the total decoded size are capped (`ziparchive.ZipLimits`, NIANBAO_ZIP_*
overrides), whatever sizes the archive declares. A package over a cap is refused with a message that
starts "zip bomb refused" and names the file and the part. Part XML is parsed without entity
expansion or network access.
"""

from __future__ import annotations

import io
import zipfile
import zlib

from lxml import etree

from nianbao.parse.readers.ziparchive import ZipLimits

_CHUNK = 1024 * 1024
_XML_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


class PackageError(ValueError):
    """The package is not a readable zip, a part is missing or damaged, or it is over its bounds."""


class PackageBombError(PackageError):
    """A part (or all parts read together) decodes past its cap, or the package has too many entries."""


class BoundedPackage:
    """A zip package whose parts are read by name, each within the decoded-size caps."""

    def __init__(self, data: bytes, source: str, kind: str, limits: ZipLimits | None = None) -> None:
        self.source, self.kind = source, kind
        self.limits = limits or ZipLimits.from_env()
        self.total = 0
        try:
            self.zip = zipfile.ZipFile(io.BytesIO(data))
            infos = self.zip.infolist()
        except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError) as exc:
            raise PackageError(f"{source}: not a zip archive, so not a {kind} package ({exc})") from exc
        if len(infos) > self.limits.max_members:
            raise PackageBombError(f"zip bomb refused: {source}: the {kind} package has {len(infos)} entries "
                                   f"(cap {self.limits.max_members})")
        self.infos = {info.filename: info for info in infos}
        # producers are not consistent about the case of part names
        self.folded = {name.lower(): name for name in self.infos}

    def names(self) -> list[str]:
        """The part names of the package."""
        return list(self.infos)

    def has(self, name: str) -> bool:
        """Whether the package holds part `name` (case-insensitive)."""
        return name.lower() in self.folded

    def read(self, name: str) -> bytes:
        """The decoded bytes of part `name`; KeyError when absent, PackageBombError past a cap."""
        info = self.infos[self.folded[name.lower()]]
        limits = self.limits
        out = bytearray()
        try:
            with self.zip.open(info) as stream:
                while chunk := stream.read(_CHUNK):
                    out += chunk
                    self.total += len(chunk)
                    if len(out) > limits.max_member_bytes:
                        raise PackageBombError(
                            f"zip bomb refused: {self.source}: {self.kind} part {name} decodes to more than "
                            f"{limits.max_member_bytes} bytes (per-part cap; {info.compress_size} bytes compressed)")
                    if self.total > limits.max_total_bytes:
                        raise PackageBombError(
                            f"zip bomb refused: {self.source}: {self.kind} parts decode to more than "
                            f"{limits.max_total_bytes} bytes in total (total cap, reached at {name})")
        except (zipfile.BadZipFile, NotImplementedError, EOFError, OSError, zlib.error) as exc:
            raise PackageError(f"{self.source}: {self.kind} part {name} is damaged "
                               f"({exc.__class__.__name__}: {exc})") from exc
        return bytes(out)

    def xml(self, name: str):
        """Part `name` parsed as XML (no entity expansion); KeyError when absent."""
        return etree.fromstring(self.read(name), _XML_PARSER)

    def close(self) -> None:
        self.zip.close()
