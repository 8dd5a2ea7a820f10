"""Format readers: sniff the bytes, read them into a Layout, and find every template row in it.

Every document is rendered from the seeds' hand-read truth by the sample-document writers, read back
by the reader its sniffed type selects, and checked row by row and cell by cell.
"""

from __future__ import annotations

import difflib
import io
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pdfplumber
import pytest
from documents_support import SEED_NAMES, needs_soffice, seed_report
from PIL import Image, ImageDraw

from nianbao.parse.mapper import map_layout
from nianbao.parse.readers import doc as doc_reader
from nianbao.parse.readers import html as html_reader
from nianbao.parse.readers import ofd as ofd_reader
from nianbao.parse.readers import pdf as pdf_reader
from nianbao.parse.readers import read
from nianbao.parse.sniff import sniff
from nianbao.sample_portals import documents
from nianbao.sample_portals.documents.blocks import Table, expand_grid, report_blocks

SEEDS = SEED_NAMES
REPORT_2021 = "001_da36df42beafad44.json"
REPORT_2019 = "002_8489967cbdc1945e.json"


def _expected_rows(report: dict) -> list[tuple[list[str], set[int]]]:
    """Every template table row as the layout must hold it: merged cells' text first, "" where covered.

    With each row come the positions of cells merged down several rows: a paged format may print
    such a group label in any of its rows (on the next page when the group crosses one).
    """
    rows = []
    for block in report_blocks(report):
        if isinstance(block, Table):
            grid = expand_grid(block)
            tall = [(r, c) for r, row in enumerate(grid) for c, cell in enumerate(row) if cell and cell.rowspan > 1]
            for r, row in enumerate(grid):
                movable = {c for (r0, c) in tall if r0 <= r < r0 + grid[r0][c].rowspan}
                rows.append(([cell.text if cell else "" for cell in row], movable))
    return rows


def _assert_rows_in_order(layout, report: dict) -> None:
    lines = layout.lines
    position = 0
    for row, movable in _expected_rows(report):
        fixed = [i for i in range(len(row)) if i not in movable]
        for index in range(position, len(lines)):
            line = lines[index]
            if len(line) == len(row) and all(line[i] == row[i] for i in fixed):
                position = index + 1
                break
        else:
            pytest.fail(f"{layout.kind}: row {row} not found in order after line {position}")


@pytest.fixture(scope="session")
def rendered(tmp_path_factory) -> dict[tuple[str, str], bytes]:
    """The test documents, generated once: (format, seed) → bytes."""
    out: dict[tuple[str, str], bytes] = {}
    for name in SEEDS:
        report = seed_report(name)
        out[("html", name)] = documents.render_html(report).encode("utf-8")
        out[("docx", name)] = documents.render_docx(report)
    if shutil.which("soffice"):
        for name in (REPORT_2021, REPORT_2019):
            out[("pdf", name)] = documents.render_pdf(seed_report(name))
        out[("doc", REPORT_2021)] = documents.render_doc(seed_report(REPORT_2021))
        out[("wps", REPORT_2019)] = documents.render_wps(seed_report(REPORT_2019))
        out[("ofd", REPORT_2019)] = documents.render_ofd(seed_report(REPORT_2019))
        out[("scan", REPORT_2019)] = documents.render_scanned_pdf(seed_report(REPORT_2019))
    folder = tmp_path_factory.mktemp("documents")
    for (fmt, name), data in out.items():
        (folder / f"{Path(name).stem}.{fmt}").write_bytes(data)
    return out


TEXT_CASES = [("html", n) for n in SEEDS] + [("docx", n) for n in SEEDS] + [
    pytest.param("pdf", REPORT_2021, marks=needs_soffice),
    pytest.param("pdf", REPORT_2019, marks=needs_soffice),
    pytest.param("doc", REPORT_2021, marks=needs_soffice),
    pytest.param("wps", REPORT_2019, marks=needs_soffice),
    pytest.param("ofd", REPORT_2019, marks=needs_soffice),
]
SNIFFED = {"html": "html", "docx": "docx", "pdf": "pdf", "doc": "doc", "wps": "wps", "ofd": "ofd", "scan": "pdf"}
KIND = {"html": "html", "docx": "docx", "pdf": "pdf", "doc": "doc", "wps": "wps", "ofd": "ofd", "scan": "pdf-scan"}


@pytest.mark.parametrize(("fmt", "seed"), TEXT_CASES)
def test_round_trip_keeps_every_table_row(rendered, fmt, seed, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    data = rendered[(fmt, seed)]
    kind = sniff(data)
    assert kind == SNIFFED[fmt]
    layout = read(data, kind, source=f"{seed}.{fmt}")
    assert layout.kind == KIND[fmt]
    report = seed_report(seed)
    _assert_rows_in_order(layout, report)
    assert layout.lines[0] == [f"{report['agency']}{report['year']}年政府信息公开工作年度报告"] or fmt == "html"
    mapped = map_layout(layout)
    assert mapped.version == report["format_version"]
    assert mapped.cells == report["cells"]


@pytest.mark.parametrize("fmt", ["html", "docx"])
def test_blank_printed_nulls_stay_null(fmt):
    report = {**seed_report("004_27e045282ad3fd6c.json"), "null_text": ""}  # table 4 review row is null
    data = documents.render_html(report).encode() if fmt == "html" else documents.render_docx(report)
    layout = read(data, sniff(data))
    _assert_rows_in_order(layout, report)
    assert [""] * 14 + ["1"] in layout.lines  # blanks keep their positions
    cells = map_layout(layout).cells
    assert cells == report["cells"]
    assert cells["t4.review.upheld"] is None


@needs_soffice
def test_table_pasted_as_a_picture_is_read_by_ocr():
    report = seed_report(REPORT_2021)
    data = documents.render_docx(report, table_images=["t4"])
    layout = read(data, sniff(data), source="picture.docx")
    assert any("经 OCR 识别" in w for w in layout.warnings)
    _assert_rows_in_order(layout, report)
    assert map_layout(layout).cells == report["cells"]


@pytest.fixture(scope="session")
def scan_layout(rendered):
    """The scanned report read once: OCR is by far the slowest reader."""
    data = rendered[("scan", REPORT_2019)]
    assert sniff(data) == "pdf"
    return read(data, "pdf", source="scan.pdf")


@needs_soffice
def test_scanned_pdf_is_read_by_ocr(scan_layout):
    layout = scan_layout
    report = seed_report(REPORT_2019)
    assert layout.kind == "pdf-scan"
    assert any("OCR" in w for w in layout.warnings)
    # every row's values exactly, its label up to OCR slips (a lost 、 or character)
    position = 0
    for row, movable in _expected_rows(report):
        values = [c for c in row if c and c[0].isdigit()]
        if not values:
            continue
        label = "".join(c for i, c in enumerate(row) if c and not c[0].isdigit() and i not in movable)
        for index in range(position, len(layout.lines)):
            line = layout.lines[index]
            printed = "".join(c for i, c in enumerate(line) if c and not c[0].isdigit() and i not in movable)
            if [c for c in line if c and c[0].isdigit()] == values and (
                difflib.SequenceMatcher(None, label, printed).ratio() > 0.7
            ):
                position = index + 1
                break
        else:
            pytest.fail(f"OCR: row {row} not found after line {position}: {layout.lines[position:position + 3]}")
    assert map_layout(layout).cells == report["cells"]


@pytest.mark.parametrize(
    ("fmt", "seed"),
    [("html", REPORT_2021), ("docx", REPORT_2019)]
    + [pytest.param(f, s, marks=needs_soffice) for f, s in [("pdf", REPORT_2021), ("doc", REPORT_2021),
                                                            ("wps", REPORT_2019), ("ofd", REPORT_2019)]],
)
def test_parse_bytes_returns_theseed_report(rendered, fmt, seed, tmp_path, monkeypatch):
    parse = pytest.importorskip("nianbao.parse")
    if not hasattr(parse, "parse_bytes"):
        pytest.skip("nianbao.parse.parse_bytes is not available")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    report = seed_report(seed)
    parsed = parse.parse_bytes(rendered[(fmt, seed)], f"{seed}.{fmt}")
    assert parsed.format_version == report["format_version"]
    assert parsed.cells == report["cells"]
    assert parsed.year == report["year"]


# ---------------------------------------------------------------- sniffing


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "pdf"),
        (b"\xef\xbb\xbf<!DOCTYPE html><html><body>\xe5\xb9\xb4\xe6\x8a\xa5</body></html>", "html"),
        ("<html><head><meta charset=gb2312></head><body>年报</body></html>".encode("gb18030"), "html"),
        ("\ufeff<html><body>年报</body></html>".encode("utf-16-le"), "html"),
        (b"  \r\n<!-- cms -->\n<div class='x'>\xc4\xea\xb1\xa8</div>", "html"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "image"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "image"),
        (b"GIF89a\x01\x00", "image"),
        (b"II*\x00\x08\x00\x00\x00", "image"),
        ("一、总体情况\n\t规章\t0\t0\n".encode("gb18030"), "txt"),
        ("一、总体情况\n".encode(), "txt"),
        (b"\x00\x01\x02\x03\x04binary", "unknown"),
        (b"", "unknown"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100 + "WordDocument".encode("utf-16-le"), "doc"),
        (
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + "WordDocument".encode("utf-16-le") + "WpsCustomData".encode("utf-16-le"),
            "wps",
        ),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + "Workbook".encode("utf-16-le"), "unknown"),
    ],
)
def test_sniff_from_magic_bytes(data, kind):
    assert sniff(data) == kind


def _zip(names: list[str]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name in names:
            archive.writestr(name, "<x/>")
    return out.getvalue()


def test_sniff_zip_family():
    assert sniff(_zip(["[Content_Types].xml", "word/document.xml"])) == "docx"
    assert sniff(_zip(["OFD.xml", "Doc_0/Document.xml"])) == "ofd"
    assert sniff(_zip(["report.pdf"])) == "zip"
    assert sniff(b"PK\x03\x04 truncated") == "zip"


# ---------------------------------------------------------------- HTML specifics


def test_html_charsets_chrome_and_metadata_table():
    page = (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312">'
        "<title>朱镕基路街道2021年政府信息公开工作年度报告</title><style>p{}</style></head><body>"
        "<nav>首页 | 政务公开</nav><script>var x='规章';</script>"
        "<table class='meta'><tr><td>索引号：</td><td>11230100/2022-00012</td><td>发布机构：</td><td>街道办</td></tr>"
        "<tr><td>发文日期：</td><td colspan='3'>2022-01-20</td></tr></table>"
        "<div class='content'><p>一、总体情况</p><p>本年度&nbsp;共<span>12</span><span>3</span>件。</p>"
        "<table><tr><td rowspan='2'>信息<br>内容</td><td colspan='2'>数量</td></tr><tr><td>1</td><td>2</td></tr></table>"
        "</div></body></html>"
    )
    # 镕 is outside GB2312: a page declared gb2312 must still decode (as gb18030)
    layout = html_reader.read(page.encode("gb18030"), source="http://127.0.0.1/a.html")
    assert layout.lines[0] == ["朱镕基路街道2021年政府信息公开工作年度报告"]
    assert ["索引号：", "11230100/2022-00012", "发布机构：", "街道办"] in layout.lines
    assert ["发文日期：", "2022-01-20", "", ""] in layout.lines
    assert ["本年度 共123件。"] in layout.lines
    assert layout.lines[-2:] == [["信息内容", "数量", ""], ["", "1", "2"]]
    assert not any("首页" in c or "var x" in c for line in layout.lines for c in line)


def test_html_without_declaration_is_detected():
    text = "<html><body><p>" + "哈尔滨市卫生健康委员会政府信息公开工作年度报告。" * 5 + "</p></body></html>"
    layout = html_reader.read(text.encode("gb18030"))
    assert layout.lines[0][0].startswith("哈尔滨市卫生健康委员会")


def test_html_image_sources_are_listed():
    page = b"<html><body><img src='/logo.png'><div><img src='t3.png' alt='table'></div></body></html>"
    assert html_reader.image_sources(page) == ["/logo.png", "t3.png"]


# ---------------------------------------------------------------- clear errors


def test_bad_input_errors_name_the_document(tmp_path, monkeypatch):
    with pytest.raises(pdf_reader.PdfReadError, match="bad.pdf"):
        pdf_reader.read(b"%PDF-1.4 garbage", source="bad.pdf")
    with pytest.raises(ofd_reader.OfdReadError, match="bad.ofd"):
        ofd_reader.read(b"PK\x03\x04 not a zip", source="bad.ofd")
    with pytest.raises(ofd_reader.OfdReadError, match="OFD.xml"):
        ofd_reader.read(_zip(["Doc_0/Document.xml"]), source="x.ofd")
    monkeypatch.setenv("PATH", str(tmp_path))  # neither antiword nor soffice
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    with pytest.raises(doc_reader.DocReadError, match=r"old\.doc.*antiword.*LibreOffice"):
        doc_reader.read(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1 fake", source="old.doc")


@needs_soffice
def test_wps_is_read_through_libreoffice(rendered, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    data = rendered[("wps", REPORT_2019)]
    layout = read(data, sniff(data), source="年报.wps")
    assert layout.kind == "wps" and "经 LibreOffice 转换" in layout.warnings
    assert map_layout(layout).cells == seed_report(REPORT_2019)["cells"]
    # without LibreOffice, antiword still reads the Word binary inside, and says why it had to
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "empty"))
    monkeypatch.setattr(doc_reader, "_soffice_docx", _no_soffice)
    fallback = read(data, "wps", source="年报.wps")
    assert fallback.kind == "wps" and any(w.startswith("LibreOffice: ") for w in fallback.warnings)
    truth, cells = seed_report(REPORT_2019)["cells"], map_layout(fallback).cells
    assert {k: v for k, v in cells.items() if v is not None} == {k: truth[k] for k in cells if cells[k] is not None}
    assert cells["t2.procurement.amount"] == truth["t2.procurement.amount"]


def _no_soffice(data: bytes, digest: str) -> bytes:
    raise FileNotFoundError("LibreOffice (soffice) is not installed")


def test_libreoffice_past_its_time_limit_is_killed_with_its_children(monkeypatch):
    import subprocess
    import time

    started = time.monotonic()
    with pytest.raises(subprocess.TimeoutExpired):
        doc_reader._run_bounded(["sh", "-c", "sleep 30 & sleep 30"], timeout=0.5)
    assert time.monotonic() - started < 10


@needs_soffice
def test_doc_conversion_is_cached_by_digest(rendered, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    data = rendered[("doc", REPORT_2021)]
    first = doc_reader.read(data)
    cached = list((tmp_path / "nianbao" / "doc").iterdir())
    assert cached, "the conversion is stored under $XDG_CACHE_HOME/nianbao/doc"
    monkeypatch.setenv("PATH", str(tmp_path))  # the tools are gone: only the cache can answer
    assert doc_reader.read(data).lines == first.lines


# ---------------------------------------------------------------- zip attachments


class _GbkNamedInfo(zipfile.ZipInfo):
    """A member named as Chinese Windows archivers write it: GBK bytes, no UTF-8 flag."""

    def _encodeFilenameFlags(self):
        return self.filename.encode("gb18030"), self.flag_bits & ~0x800


def _zip_of(members: list[tuple[str, bytes]], utf8_names: bool = True) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, body in members:
            info = (zipfile.ZipInfo if utf8_names else _GbkNamedInfo)(name, date_time=(2022, 1, 20, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, body)
    return out.getvalue()


def test_zip_attachment_report_member_is_parsed():
    from nianbao.parse import parse_bytes

    report = seed_report(REPORT_2021)
    data = _zip_of(
        [
            ("说明.txt", "附件为本单位年度报告。".encode("gb18030")),
            ("封面.png", b"\x89PNG\r\n\x1a\n"),
            ("硚口区卫健局2021年政府信息公开工作年度报告.docx", documents.render_docx(report)),
        ],
        utf8_names=False,
    )
    assert sniff(data) == "zip"
    parsed = parse_bytes(data, "附件.zip")
    assert parsed.cells == report["cells"]
    assert (parsed.year, parsed.format_version) == (report["year"], report["format_version"])
    assert parsed.content_type == "application/zip"
    chosen = [w for w in parsed.warnings if "报告取自压缩包中的" in w]
    assert chosen and "硚口区卫健局2021年政府信息公开工作年度报告.docx" in chosen[0]  # GBK name decoded
    assert any("压缩包中的其他文件未解析" in w and "说明.txt" in w for w in parsed.warnings)


def test_zip_member_without_tables_gives_way_to_the_report():
    from nianbao.parse import parse_bytes

    report = seed_report(REPORT_2019)
    notice = "关于年度报告的说明：报告全文见压缩包内文件。".encode()
    data = _zip_of([("年度报告说明.txt", notice),
                    ("nested.zip", _zip_of([("report.docx", documents.render_docx(report))]))])
    parsed = parse_bytes(data, "att.zip")
    assert parsed.cells == report["cells"]
    assert any("“nested.zip!report.docx”" in w for w in parsed.warnings)
    assert any("压缩包中的其他文件未解析：年度报告说明.txt（txt）" in w for w in parsed.warnings)


def test_zip_bomb_is_refused_with_its_reason(monkeypatch):
    from nianbao.parse import parse_bytes
    from nianbao.parse.readers import ziparchive

    # a member whose decoded size passes the per-member cap: the header's declared size is not trusted
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive, archive.open("report.pdf", "w") as member:
        block = b"\0" * (1024 * 1024)
        for _ in range(ziparchive.MAX_MEMBER_BYTES // len(block) + 1):
            member.write(block)
    bomb = out.getvalue()
    assert len(bomb) < ziparchive.MAX_MEMBER_BYTES // 500
    with pytest.raises(ziparchive.ZipReadError, match=r"zip bomb refused: member 'report.pdf'.*per-member cap"):
        parse_bytes(bomb, "bomb.zip")
    # the total over many small members, with the caps lowered through the environment
    monkeypatch.setenv("NIANBAO_ZIP_MAX_TOTAL_MB", "1")
    many = _zip_of([(f"part{i}.txt", b"x" * 300_000) for i in range(5)])
    with pytest.raises(ziparchive.ZipReadError, match="total cap"):
        parse_bytes(many, "many.zip")
    monkeypatch.setenv("NIANBAO_ZIP_MAX_MEMBERS", "3")
    with pytest.raises(ziparchive.ZipReadError, match="has 5 entries"):
        parse_bytes(many, "many.zip")


def test_nested_zips_are_bounded_and_names_are_never_paths(tmp_path, monkeypatch):
    from nianbao.parse.readers import ziparchive

    monkeypatch.chdir(tmp_path)
    inner = _zip_of([("../../evil.txt", "年度报告".encode())])
    for level in range(ziparchive.MAX_DEPTH):
        inner = _zip_of([(f"level{level}.zip", inner)])
    with pytest.raises(ziparchive.ZipReadError, match="nests archives deeper"):
        ziparchive.list_documents(inner)
    members, notes = ziparchive.list_documents(_zip_of([("../../evil.txt", "年度报告".encode()),
                                                       ("/abs/x.bin", b"\x00\x01\x02\x03")]))
    assert [(m.name, m.kind) for m in members] == [("../../evil.txt", "txt")]
    assert notes == ["/abs/x.bin: not a document (unknown)"]
    assert list(tmp_path.iterdir()) == [] and not (tmp_path.parent.parent / "evil.txt").exists()


def test_zip_without_a_report_says_what_it_holds():
    from nianbao.parse.readers import ziparchive

    with pytest.raises(ziparchive.ZipReadError, match=r"no report document in the zip \(data.bin: not a document"):
        read(_zip_of([("data.bin", b"\x00\x01\x02")]), "zip", source="a.zip")


# ---------------------------------------------------------------- broken font maps


@needs_soffice
def test_broken_font_pdf_goes_through_ocr_to_its_cells():
    from nianbao.parse import parse_bytes

    report = seed_report(REPORT_2019)
    data = documents.render_broken_font_pdf(report)
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        assert "(cid:" in (pdf.pages[0].extract_text() or "")  # the text layer really is broken
    parsed = parse_bytes(data, "broken-font.pdf")
    assert any("字体映射损坏（(cid:N) 字形），文字经 OCR 识别" in w for w in parsed.warnings)
    assert parsed.cells == report["cells"]
    assert (parsed.year, parsed.format_version) == (report["year"], report["format_version"])


# ---------------------------------------------------------------- scans as copiers make them


@pytest.fixture(scope="session")
def copier_scan_and_text():
    """A report with failing rules, as a text PDF and as a copier scan (1°, grey paper, red seal), parsed."""
    from nianbao.parse import parse_bytes

    report = seed_report(REPORT_2021)
    scan = documents.render_copier_scan(report, skew=1.0, seal=True)
    return report, parse_bytes(scan, "copier-scan.pdf"), parse_bytes(documents.render_pdf(report), "text.pdf")


@needs_soffice
def test_skewed_sealed_scan_parses_like_its_text_version(copier_scan_and_text):
    report, scanned, text = copier_scan_and_text
    assert scanned.content_type == "application/pdf"
    assert any("识别前已校正" in w for w in scanned.warnings)
    assert text.cells == report["cells"]
    assert scanned.cells == text.cells
    assert [f["rule"] for f in scanned.findings] == [f["rule"] for f in text.findings]
    assert {f["rule"] for f in scanned.findings} >= set(report["failing_rules"])
    assert (scanned.agency, scanned.year, scanned.format_version) == (text.agency, text.year, text.format_version)


def _cell_image(text: str, size: tuple[int, int] = (120, 44)) -> Image.Image:
    """One ruled table cell as a 150 dpi scan shows it, `text` centred in it."""
    from nianbao.sample_portals.documents.copier_scan import _seal_font

    image = Image.new("RGB", (size[0] + 20, size[1] + 20), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((10, 10, 10 + size[0], 10 + size[1]), outline="black", width=2)
    if text:
        draw.text((10 + size[0] / 2, 10 + size[1] / 2), text, fill="black", font=_seal_font(22), anchor="mm")
    return image


def test_ocr_cell_reader_reads_figures_and_blanks_what_it_cannot_read():
    from nianbao.parse.readers import ocr

    box = (10.0, 10.0, 130.0, 54.0)
    notes: list[str] = []
    assert ocr._cell_reader(_cell_image("207"), notes)(box) == "207"
    assert ocr._cell_reader(_cell_image(""), notes)(box) == ""
    assert notes == []
    # a cell whose print is smudged past reading: blank, and said so
    smudged = _cell_image("")
    draw = ImageDraw.Draw(smudged)
    for i in range(0, 90, 6):
        draw.line((30 + i, 22, 40 + i, 52), fill="black", width=3)
        draw.arc((25 + i, 20, 45 + i, 50), 0, 200, fill="black", width=2)
    assert ocr._cell_reader(smudged, notes)(box) == ""
    assert len(notes) == 1 and "OCR 无法确认" in notes[0] and "留空" in notes[0]


def test_deskew_finds_the_copier_angle_and_seal_ink_is_removed():
    from nianbao.parse.readers import ocr
    from nianbao.sample_portals.documents.copier_scan import seal_image

    page = Image.new("RGB", (900, 1200), "white")
    draw = ImageDraw.Draw(page)
    for y in range(150, 1050, 40):  # a ruled table
        draw.line((80, y, 820, y), fill="black", width=2)
    for x in (80, 300, 560, 820):
        draw.line((x, 150, x, 1010), fill="black", width=2)
    seal = seal_image("某某市某某局", 250)
    page.paste(seal, (500, 800), seal)
    for angle in (1.0, -1.6):
        turned = page.rotate(angle, resample=Image.BICUBIC, fillcolor="white")
        assert ocr.skew_angle(turned) == pytest.approx(angle, abs=0.1)
    cleaned = np.asarray(ocr.remove_seal(page))
    red = (cleaned[..., 0].astype(int) - cleaned[..., 1]) > 70
    assert not red.any()
    assert (cleaned[150, 80:820] < 100).all()  # the black rules stay


@pytest.mark.parametrize(("readings", "agreed"), [
    ([("1", 0.85), ("1", 0.66), ("7", 0.59), ("1", 0.96), ("1", 0.82), ("7", 0.62)], "1"),
    ([("1", 0.7), ("1", 0.75)], None),  # agreeing but never sure
    ([("1", 0.9), ("7", 0.85), ("1", 0.8)], None),  # the dissent is nearly as sure
    ([("1", 0.9), ("7", 0.5), ("4", 0.5)], None),  # no two-thirds majority
    ([("0", 0.95)], None),  # one reading alone is not a vote
    ([("口", 0.9), ("口", 0.9)], None),  # agreement on something that is not a figure
])
def test_ocr_readings_of_a_cell_are_believed_only_on_a_clear_vote(readings, agreed):
    from nianbao.parse.readers import ocr

    assert ocr._agreed_figure(readings) == agreed
