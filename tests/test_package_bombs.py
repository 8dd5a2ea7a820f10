"""DOCX and OFD files are zips: a part that inflates to gigabytes is refused, naming the file and the
part, while memory stays bounded. The bombs are built here, a few megabytes on disk."""

from __future__ import annotations

import struct
import tracemalloc
import zlib

import pytest

from nianbao.parse import parse_bytes
from nianbao.parse.readers.package import BoundedPackage, PackageBombError
from nianbao.parse.readers.ziparchive import MAX_MEMBER_BYTES, ZipLimits
from nianbao.parse.sniff import sniff

GIB = 1024 * 1024 * 1024


def _deflated_zeros(size: int) -> bytes:
    """A raw deflate stream of `size` zero bytes, built from one flushed segment repeated (fast, small)."""
    block = 1024 * 1024
    assert size % block == 0
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    segment = compressor.compress(bytes(block)) + compressor.flush(zlib.Z_FULL_FLUSH)
    return segment * (size // block) + b"\x03\x00"  # an empty final block ends the stream


def _zip(members: list[tuple[str, bytes, int, int, int]]) -> bytes:
    """A zip written by hand: (name, stored bytes, method, crc, uncompressed size) per member, sizes as
    declared (a bomb declares its real size, so the reader cannot be told apart by the header)."""
    out, central = bytearray(), bytearray()
    for name, body, method, crc, size in members:
        encoded = name.encode()
        offset = len(out)
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0, crc, len(body), size, len(encoded), 0)
        out += encoded + body
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, method, 0, 0, crc, len(body), size,
                               len(encoded), 0, 0, 0, 0, 0, offset)
        central += encoded
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(central), len(out), 0)
    return bytes(out + central + end)


def _stored(name: str, text: str) -> tuple[str, bytes, int, int, int]:
    data = text.encode()
    return name, data, 0, zlib.crc32(data), len(data)


def _bomb(name: str, size: int = 2 * GIB) -> tuple[str, bytes, int, int, int]:
    # a 2 GiB part's CRC is never reached (the cap comes first); a small part's must be right
    crc = zlib.crc32(bytes(size)) if size <= 64 * 1024 * 1024 else 0
    return name, _deflated_zeros(size), 8, crc, size


CONTENT_TYPES = '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>'
OFD_XML = ('<?xml version="1.0"?><ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016"><ofd:DocBody>'
           '<ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>')


def _refused(data: bytes, source: str) -> tuple[str, int]:
    """The refusal message and the peak memory traced while parsing."""
    tracemalloc.start()
    try:
        with pytest.raises(ValueError) as caught:
            parse_bytes(data, source)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return str(caught.value), peak


def test_docx_bomb_refused_within_bounded_memory() -> None:
    data = _zip([_stored("[Content_Types].xml", CONTENT_TYPES), _bomb("word/document.xml")])
    assert len(data) < 4 * 1024 * 1024 and sniff(data) == "docx"
    message, peak = _refused(data, "附件/bomb.docx")
    assert message.startswith("zip bomb refused: 附件/bomb.docx: DOCX part word/document.xml decodes to more than")
    assert str(MAX_MEMBER_BYTES) in message
    assert peak < MAX_MEMBER_BYTES * 2 + 32 * 1024 * 1024


def test_ofd_bomb_refused_within_bounded_memory() -> None:
    data = _zip([_stored("OFD.xml", OFD_XML), _bomb("Doc_0/Document.xml")])
    assert sniff(data) == "ofd"
    message, peak = _refused(data, "bomb.ofd")
    assert message.startswith("zip bomb refused: bomb.ofd: OFD part Doc_0/Document.xml decodes to more than")
    assert peak < MAX_MEMBER_BYTES * 2 + 32 * 1024 * 1024


def test_many_parts_each_under_the_cap_meet_the_total_cap() -> None:
    limits = ZipLimits(max_members=50, max_member_bytes=4 * 1024 * 1024, max_total_bytes=10 * 1024 * 1024)
    parts = [_bomb(f"word/media/image{i}.png", 3 * 1024 * 1024) for i in range(4)]
    package = BoundedPackage(_zip(parts), "pictures.docx", "DOCX", limits)
    for name in package.names()[:3]:
        assert len(package.read(name)) == 3 * 1024 * 1024
    with pytest.raises(PackageBombError, match=r"pictures.docx: DOCX parts decode to more than 10485760 bytes "
                                               r"in total \(total cap, reached at word/media/image3.png\)"):
        package.read(package.names()[3])


def test_too_many_entries_refused() -> None:
    members = [_stored("[Content_Types].xml", CONTENT_TYPES)] + [_stored(f"word/p{i}.xml", "<a/>")
                                                                 for i in range(260)]
    with pytest.raises(ValueError, match=r"zip bomb refused: many.docx: the DOCX package has 262 entries \(cap 200\)"):
        parse_bytes(_zip(members + [_stored("word/document.xml", "<a/>")]), "many.docx")


def test_entity_expansion_not_performed() -> None:
    """A DOCX whose document.xml defines nested entities (billion laughs) is not expanded."""
    laughs = ('<?xml version="1.0"?><!DOCTYPE w [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
              '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
              '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p>'
              '<w:r><w:t>规章&c;</w:t></w:r></w:p></w:body></w:document>')
    data = _zip([_stored("[Content_Types].xml", CONTENT_TYPES), _stored("word/document.xml", laughs)])
    parsed = parse_bytes(data, "laughs.docx")
    assert "lol" not in "".join(parsed.sections.values()) + "".join(map(str, parsed.warnings))
