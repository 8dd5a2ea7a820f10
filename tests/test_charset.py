"""The one charset decoder (nianbao/charset.py): its order of evidence on made-up bytes, and its callers.

Page shapes follow what real portals send (tests/fixtures/README.md, "Charsets"): a Word-exported or
old-CMS page in GBK under `<meta http-equiv=Content-Type content="text/html; charset=gb2312">`, a
server default `charset=ISO-8859-1` header over GBK bytes, an XML answer with its declaration after
blank lines, a meta tag spelled `httpequiv="ContentType"`.
"""

from __future__ import annotations

import logging
import random

import pytest
from scrapy.http import HtmlResponse, Request, Response
from scrapy.statscollectors import MemoryStatsCollector
from scrapy.utils.test import get_crawler

from crawler.charset import as_html, repair_encoding
from nianbao import charset
from nianbao.parse import sniff
from nianbao.parse.readers import html as html_reader
from nianbao.parse.readers import text as text_reader

# 镕 and 𠀀 are outside GB2312 (GBK and GB18030 only): a page labelled gb2312 must still read them.
BODY = "镕城区政府信息公开工作年度报告：收到申请数 12 件，予以公开 7 件。"
TRADITIONAL = "臺北市政府資訊公開年度報告：本機關受理申請案件數量統計如下，共計十二件。"


def page(charset_meta: str | None, body: str = BODY, *, http_equiv: bool = True) -> str:
    """A small portal page; `charset_meta` declared in a meta tag (None: no declaration)."""
    if charset_meta is None:
        meta = ""
    elif http_equiv:
        meta = f'<META http-equiv="Content-Type" content="text/html; charset={charset_meta}">'
    else:
        meta = f'<meta charset="{charset_meta}">'
    title = "年度報告" if body == TRADITIONAL else "年度报告"
    return f"<HTML><HEAD>{meta}<TITLE>{title}</TITLE></HEAD><BODY><P>{body}</P></BODY></HTML>"


GBK_PAGE = page("gb2312").encode("gbk")
UTF8_PAGE = page("utf-8").encode("utf-8")
BIG5_PAGE = page("big5", TRADITIONAL, http_equiv=False).encode("big5")
UNDECLARED_GBK = page(None).encode("gbk")
UNDECLARED_BIG5 = page(None, TRADITIONAL).encode("big5")
UNDECLARED_UTF8 = page(None).encode("utf-8")

# (case, bytes, HTTP Content-Type, expected encoding, decided by, overruled declarations, replacements)
CASES = [
    ("GBK page, meta gb2312", GBK_PAGE, "text/html", "gb18030", "meta", (), 0),
    ("GBK page, header gbk agrees with meta gb2312", GBK_PAGE, "text/html; charset=GBK", "gb18030", "http", (), 0),
    ("UTF-8 with BOM, header says gbk", b"\xef\xbb\xbf" + UTF8_PAGE, "text/html; charset=gbk", "utf-8", "bom",
     ("http gbk",), 0),
    ("UTF-16 BOM, header says gb2312", b"\xff\xfe" + page(None).encode("utf-16-le"), "text/html; charset=gb2312",
     "utf-16-le", "bom", ("http gb2312",), 0),
    ("header Charset=gb2312, capitalised", UNDECLARED_GBK, "text/html; Charset=gb2312", "gb18030", "http", (), 0),
    ("Big5 page, meta big5", BIG5_PAGE, None, "big5hkscs", "meta", (), 0),
    ("Big5 page, nothing declared", UNDECLARED_BIG5, None, "big5hkscs", "sniffed", (), 0),
    ("Latin-1 header on GBK bytes", UNDECLARED_GBK, "text/html; charset=ISO-8859-1", "gb18030", "sniffed",
     ("http ISO-8859-1",), 0),
    ("Latin-1 header, meta gb2312", GBK_PAGE, "text/html;charset=iso-8859-1", "gb18030", "meta",
     ("http iso-8859-1",), 0),
    ("windows-1252 meta on UTF-8 bytes", page("windows-1252").encode("utf-8"), None, "utf-8", "sniffed",
     ("meta windows-1252",), 0),
    ("utf-8 header on GBK bytes, meta gb2312", GBK_PAGE, "text/html; charset=UTF-8", "gb18030", "meta",
     ("http UTF-8",), 0),
    ("meta gb2312 on UTF-8 bytes", page("gb2312").encode("utf-8"), None, "utf-8", "sniffed", ("meta gb2312",), 0),
    ("nothing declared, GBK", UNDECLARED_GBK, None, "gb18030", "sniffed", (), 0),
    ("nothing declared, UTF-16LE without a BOM", UNDECLARED_UTF8.decode().encode("utf-16-le"), None, "utf-16-le",
     "sniffed", (), 0),
    ("nothing declared, UTF-8", UNDECLARED_UTF8, "text/html", "utf-8", "sniffed", (), 0),
    ("nothing declared, UTF-8 cut inside the last character", UNDECLARED_UTF8[:UNDECLARED_UTF8.index("。".encode()) + 2],
     None, "utf-8", "sniffed", (), 1),
    ("meta gb2312, GBK cut inside the last character", GBK_PAGE[:GBK_PAGE.index("。".encode("gbk")) + 1], None,
     "gb18030", "meta", (), 1),
    ("Latin-1 header on Latin-1 text stays", b"<html><p>caf\xe9 cr\xe8me</p></html>", "text/html; charset=latin-1",
     "cp1252", "http", (), 0),
    ("ASCII page, ascii header", b"<html><p>2023 annual report</p></html>", "text/html; charset=us-ascii",
     "cp1252", "http", (), 0),
    ("XML declaration after blank lines", b"\r\n\r\n" + '<?xml version="1.0" encoding="GBK"?><datastore><record>'
     f"{BODY}</record></datastore>".encode("gbk"), "text/xml", "gb18030", "xml", (), 0),
    ("meta spelled httpequiv=ContentType", '<HTML><HEAD><meta httpequiv="ContentType" content="text/html; charset=gbk" />'
     f"</HEAD><BODY>{BODY}</BODY></HTML>".encode("gbk"), None, "gb18030", "meta", (), 0),
    ("unknown label, GBK bytes", page("x-unknown-cms").encode("gbk"), None, "gb18030", "sniffed",
     ("meta x-unknown-cms",), 0),
    ("GB18030-only character under meta gb2312", page("gb2312", BODY + "𠀀").encode("gb18030"), None, "gb18030",
     "meta", (), 0),
]


@pytest.mark.parametrize(("bytes_", "content_type", "encoding", "decided_by", "overruled", "replacements"),
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_order_of_evidence(bytes_, content_type, encoding, decided_by, overruled, replacements) -> None:
    decoded = charset.decode_bytes(bytes_, content_type)
    assert (decoded.encoding, decoded.decided_by, decoded.overruled, decoded.replacements) == (
        encoding, decided_by, overruled, replacements)
    assert decoded.mislabelled == bool(overruled)
    if replacements:
        assert decoded.truncated and decoded.text.rstrip().endswith("\ufffd")
        assert any("cut at the end" in note for note in decoded.notes())
    else:
        assert "\ufffd" not in decoded.text
    expected = bytes_.decode("cp1252") if encoding == "cp1252" else TRADITIONAL if encoding == "big5hkscs" else BODY
    assert expected[:20] in decoded.text
    for declaration in overruled:  # a mislabel is said in words, never only repaired
        assert any(declaration.split(" ", 1)[1] in note and "does not fit" in note for note in decoded.notes())


def test_labels_map_to_supersets() -> None:
    assert [charset.codec_for(label) for label in ("GB2312", "gbk", "CP936", "x-gbk", "GB_2312-80", "big5",
                                                   "ISO-8859-1", "us-ascii", "UTF8", "nonsense")] == [
        "gb18030", "gb18030", "gb18030", "gb18030", "gb18030", "big5hkscs", "cp1252", "cp1252", "utf-8", None]
    assert charset.header_charset(b'text/html; charset="GB2312"') == "GB2312"
    assert charset.header_charset("text/html") is None


def test_deciding_reads_a_bounded_sample_from_the_first_non_ascii_byte() -> None:
    # a page with 200 KB of inline script before its Chinese text: the text decides, not the script
    script = b"<script>" + b"var x = 1;\n" * 20000 + b"</script>"
    data = b"<html><head>" + script + f"</head><body>{BODY * 3000}</body></html>".encode("gbk")
    assert len(data) > 4 * charset.SAMPLE_BYTES
    decoded = charset.decode_bytes(data)
    assert (decoded.encoding, decoded.decided_by, decoded.replacements) == ("gb18030", "sniffed", 0)
    assert decoded.text.endswith("</body></html>")
    sample, cut = charset._sample(data)
    assert len(sample) == charset.SAMPLE_BYTES and cut and BODY[:2].encode("gbk") in sample[:8]


def test_replacements_are_counted_not_hidden() -> None:
    corrupt = page("gb2312", BODY * 400).encode("gbk").replace(BODY[:2].encode("gbk"), b"\xff\xff", 3)
    decoded = charset.decode_bytes(corrupt)
    assert (decoded.encoding, decoded.decided_by) == ("gb18030", "meta")  # 3 bad pairs in 10k characters
    assert decoded.replacements == 6 and not decoded.truncated
    assert decoded.notes() == ["6 undecodable byte sequence(s) replaced with U+FFFD"]
    # more corruption than a declaration may carry: the bytes still agree with it, so it decides
    damaged = page("gb2312", BODY * 40).encode("gbk").replace(BODY[:2].encode("gbk"), b"\xff\xff", 8)
    decoded = charset.decode_bytes(damaged)
    assert (decoded.encoding, decoded.decided_by, decoded.replacements, decoded.mislabelled) == (
        "gb18030", "meta", 16, False)
    # a U+FFFD the document itself carries is not a replacement
    assert charset.decode_bytes("替换字符\ufffd在原文中".encode("utf-8")).replacements == 0


def test_html_reader_reports_how_it_decoded() -> None:
    data = page("windows-1252").encode("gbk")
    text, encoding, warnings = html_reader.decode(data, "http://x.gov.cn/a.html")
    assert encoding == "gb18030" and BODY in text
    assert warnings == ["http://x.gov.cn/a.html: declared charset windows-1252 (meta) does not fit the bytes; "
                        "decoded as gb18030 (sniffed)"]
    layout = html_reader.read(data, source="http://x.gov.cn/a.html")
    assert [BODY] in layout.lines and layout.warnings == warnings
    assert html_reader.read(GBK_PAGE).warnings == []  # a well-labelled page says nothing
    with pytest.raises(html_reader.HtmlReadError, match="cannot determine the character encoding"):
        html_reader.decode(random.Random(1).randbytes(4000))


def test_text_reader_reports_how_it_decoded() -> None:
    text, warnings = text_reader.decode(BODY.encode("gbk"), "a.txt")
    assert text == BODY and warnings == ["a.txt: no charset declared; decoded as gb18030 (sniffed)"]
    assert text_reader.decode(b"\xef\xbb\xbf" + BODY.encode()) == (BODY, [])
    assert text_reader.decode(b"\xfe\xff" + BODY.encode("utf-16-be")) == (BODY, [])
    # plain text has no meta tag: a charset named in its words is not a declaration
    text, _ = text_reader.decode(b'<meta charset="big5"> ' + BODY.encode("gbk"))
    assert BODY in text


def test_type_sniffer_uses_the_same_sniffing() -> None:
    assert sniff.sniff((BODY * 50).encode("gbk")) == "txt"
    assert sniff.sniff((TRADITIONAL * 50).encode("big5")) == "txt"
    assert charset.sniff((TRADITIONAL * 50).encode("big5")) == "big5hkscs"
    assert charset.sniff((BODY * 50).encode("gbk")) == "gb18030"


def _response(body: bytes, content_type: str, cls=HtmlResponse) -> Response:
    url = "http://www.example.gov.cn/zwgk/nb/index.htm"
    return cls(url, body=body, headers={"Content-Type": content_type}, request=Request(url))


def test_crawler_repairs_a_mislabelled_page_and_records_it(caplog) -> None:
    stats = MemoryStatsCollector(get_crawler())
    response = _response(UNDECLARED_GBK, "text/html; charset=ISO-8859-1")
    assert response.encoding == "cp1252"  # what Scrapy alone would read
    with caplog.at_level(logging.WARNING, logger="crawler.charset"):
        repaired = repair_encoding(response, stats)
    assert repaired.encoding == "gb18030" and BODY in repaired.text
    assert "http://www.example.gov.cn/zwgk/nb/index.htm: declared charset ISO-8859-1 (http)" in caplog.text
    assert stats.get_value("charset/mislabelled") == 1
    # a well-labelled page passes unchanged and unrecorded
    fine = _response(GBK_PAGE, "text/html")
    assert repair_encoding(fine, stats) is fine and stats.get_value("charset/mislabelled") == 1
    # an HTML body sent as application/octet-stream is read as HTML with the decoder's charset
    octet = Response("http://www.example.gov.cn/a", body=BIG5_PAGE, headers={"Content-Type": "application/octet-stream"})
    html = as_html(octet)
    assert isinstance(html, HtmlResponse) and html.encoding == "big5hkscs" and TRADITIONAL in html.text


def test_crawler_and_parser_read_a_page_alike() -> None:
    for body, content_type in ((GBK_PAGE, "text/html; charset=utf-8"), (UNDECLARED_BIG5, "text/html"),
                               (b"\xef\xbb\xbf" + UTF8_PAGE, "text/html; charset=gb2312")):
        crawled = repair_encoding(_response(body, content_type))
        assert crawled.encoding == charset.decode_bytes(body, content_type).encoding
        assert html_reader.decode(body, "page", content_type)[0].lstrip("\ufeff") == crawled.text.lstrip("\ufeff")


def test_the_content_type_a_document_was_served_with_is_charset_evidence_for_the_parser() -> None:
    # the parser stage passes the archived Content-Type as a hint (archive/stage.py)
    from nianbao.parse import parse_bytes

    page = ("<html><head><title>某某局2023年政府信息公開工作年度報告</title></head>"
            "<body><p>本年度共收到政府信息公開申請12件。</p></body></html>").encode("big5")
    bare = parse_bytes(page, "report.html")
    served = parse_bytes(page, "report.html", {"content_type": "text/html; charset=Big5"})
    assert any("no charset declared" in w for w in bare.warnings), bare.warnings
    assert not any("charset" in w for w in served.warnings), served.warnings
    assert "某某局" in (served.title or "")
