"""The sample-document writers render the national template as real reports print it, in every format."""

from __future__ import annotations

import hashlib
import io
import shutil
import subprocess
import zipfile

import lxml.html
import pdfplumber
import pytest
from documents_support import needs_soffice, seed_report
from lxml import etree

from nianbao.parse.sniff import sniff
from nianbao.sample_portals import documents
from nianbao.sample_portals.documents import office
from nianbao.sample_portals.documents.blocks import expand_grid, table3

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


@pytest.fixture(scope="session")
def report_2021() -> dict:
    return seed_report("004_27e045282ad3fd6c.json")  # has null cells, printed as dashes


@pytest.fixture(scope="session")
def report_2021_office() -> dict:
    # the same report the reader tests convert, so LibreOffice runs once per report and session
    return seed_report("001_da36df42beafad44.json")


@pytest.fixture(scope="session")
def report_2019() -> dict:
    return seed_report("002_8489967cbdc1945e.json")


def _html_tables(fragment: str) -> list:
    return lxml.html.fragment_fromstring(fragment, create_parent="div").findall(".//table")


def test_html_tables_carry_the_template_merges(report_2021):
    fragment = documents.render_html(report_2021)
    t2, t3, t4 = _html_tables(fragment)
    corner = t3.find(".//td")
    assert (corner.get("rowspan"), corner.get("colspan")) == ("3", "3")
    assert corner.text_content().startswith("（本列数据的勾稽关系为")
    results = [td for td in t3.iter("td") if td.text_content() == "三、本年度办理结果"]
    assert results[0].get("rowspan") == "22"  # 2021: (一)…(七) with three 其他处理 items
    other = [td for td in t3.iter("td") if td.text_content() == "（六）其他处理"]
    assert other[0].get("rowspan") == "3"
    assert len(t2.findall(".//tr")) == 14
    # null cells print as a dash, printed zeros as 0
    value_row = t4.findall(".//tr")[-1]
    assert [td.text_content() for td in value_row][:5] == ["—"] * 5
    assert "391.49" in fragment


def test_html_2019_template_rows_and_columns(report_2019):
    fragment = documents.render_html(report_2019)
    t2, t3, _ = _html_tables(fragment)
    labels = [tr[0].text_content() for tr in t2.findall(".//tr")]
    assert "其他对外管理服务事项" in labels and "政府集中采购" in labels and "行政规范性文件" not in labels
    assert "本年新制作数量" in t2.text_content()
    other = [td for td in t3.iter("td") if td.text_content() == "（六）其他处理"]
    assert other[0].get("colspan") == "2" and other[0].get("rowspan") is None
    assert [td for td in t3.iter("td") if td.text_content() == "三、本年度办理结果"][0].get("rowspan") == "20"


def test_table3_grid_is_rectangular(report_2021, report_2019):
    for report, rows in ((report_2021, 3 + 2 + 22 + 1), (report_2019, 3 + 2 + 20 + 1)):
        grid = expand_grid(table3(report))
        assert len(grid) == rows
        assert all(len(row) == 10 for row in grid)


def test_docx_has_merged_cells_and_repeating_header(report_2021):
    data = documents.render_docx(report_2021)
    assert sniff(data) == "docx"
    assert data == documents.render_docx(report_2021), "the same report must give the same bytes"
    body = etree.fromstring(zipfile.ZipFile(io.BytesIO(data)).read("word/document.xml"))
    t3 = body.findall(f".//{W}tbl")[1]
    rows = t3.findall(f"{W}tr")
    assert len(rows) == 28
    assert [r.find(f"{W}trPr/{W}tblHeader") is not None for r in rows[:4]] == [True, True, True, False]
    first = rows[0].find(f"{W}tc/{W}tcPr")
    assert first.find(f"{W}gridSpan").get(f"{W}val") == "3"
    assert first.find(f"{W}vMerge").get(f"{W}val") == "restart"
    continued = rows[1].find(f"{W}tc/{W}tcPr/{W}vMerge")
    assert continued is not None and continued.get(f"{W}val") in (None, "continue")


@needs_soffice
def test_pdf_table3_crosses_a_page_with_its_header_repeated(report_2021_office):
    data = documents.render_pdf(report_2021_office)
    assert sniff(data) == "pdf"
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        texts = [page.extract_text() or "" for page in pdf.pages]
    header_pages = [i for i, text in enumerate(texts) if "本列数据的勾稽关系" in text]
    assert len(header_pages) == 2 and header_pages[1] == header_pages[0] + 1
    assert "（七）总计" in texts[header_pages[1]]
    assert "一、本年新收政府信息公开申请数量" in texts[header_pages[0]]
    # dated by the report, not the clock: a second export gives the same bytes
    assert b"/CreationDate(D:" + report_2021_office["published"].replace("-", "").encode() + b"000000" in data
    docx = documents.render_docx(report_2021_office)
    del office._memo[(hashlib.sha256(docx).hexdigest(), "pdf")]
    assert documents.render_pdf(report_2021_office) == data


@needs_soffice
def test_scanned_pdf_has_no_text_layer(report_2019):
    data = documents.render_scanned_pdf(report_2019)
    assert sniff(data) == "pdf"
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        assert len(pdf.pages) >= 2
        for page in pdf.pages:
            assert page.chars == []
            assert len(page.images) == 1
            # about 150 dpi: an A4 page is about 1240 pixels wide
            assert 1100 < page.images[0]["srcsize"][0] < 1400
    stamp = report_2019["published"].replace("-", "").encode() + b"000000Z"
    assert b"/CreationDate (D:" + stamp in data and b"/ModDate (D:" + stamp in data


@needs_soffice
def test_ofd_is_a_valid_package(report_2019):
    data = documents.render_ofd(report_2019)
    assert sniff(data) == "ofd"
    archive = zipfile.ZipFile(io.BytesIO(data))
    ofd = etree.fromstring(archive.read("OFD.xml"))
    ns = {"ofd": "http://www.ofdspec.org/2016"}
    assert ofd.findtext("ofd:DocBody/ofd:DocRoot", namespaces=ns) == "Doc_0/Document.xml"
    document = etree.fromstring(archive.read("Doc_0/Document.xml"))
    pages = document.findall("ofd:Pages/ofd:Page", namespaces=ns)
    assert len(pages) >= 2
    content = etree.fromstring(archive.read("Doc_0/" + pages[0].get("BaseLoc")))
    texts = ["".join(t.itertext()) for t in content.iterfind(".//ofd:TextCode", namespaces=ns)]
    assert any("鹤岗市卫健委" in t for t in texts)
    assert content.find(".//ofd:TextObject", namespaces=ns).get("Boundary").count(" ") == 3
    year, month, day = map(int, report_2019["published"].split("-"))
    assert {info.date_time for info in archive.infolist()} == {(year, month, day, 0, 0, 0)}
    assert ofd.findtext("ofd:DocBody/ofd:DocInfo/ofd:CreationDate", namespaces=ns) == report_2019["published"]


@needs_soffice
def test_doc_is_legacy_word(report_2021_office, tmp_path):
    data = documents.render_doc(report_2021_office)
    assert data.startswith(b"\xd0\xcf\x11\xe0") and sniff(data) == "doc"
    if shutil.which("antiword"):
        path = tmp_path / "report.doc"
        path.write_bytes(data)
        text = subprocess.run(["antiword", str(path)], capture_output=True, check=True).stdout.decode()
        assert "硚口区卫健局2021年政府信息公开工作年度报告" in text


@needs_soffice
def test_table_as_picture(report_2021_office):
    png = documents.render_table_png(report_2021_office, "t4")
    assert sniff(png) == "image" and png.startswith(b"\x89PNG")
    fragment = documents.render_html(report_2021_office, table_images={"t4": "/files/t4.png"})
    assert len(_html_tables(fragment)) == 2
    assert '<img src="/files/t4.png"' in fragment
    body = zipfile.ZipFile(io.BytesIO(documents.render_docx(report_2021_office, table_images=["t4"])))
    assert len(etree.fromstring(body.read("word/document.xml")).findall(f".//{W}tbl")) == 2
    assert any(name.startswith("word/media/") for name in body.namelist())


def test_pre2019_is_free_text(report_2019):
    report = {"agency": "某县民政局", "year": 2015, "figures": {"proactive": 321, "requests": 7}}
    fragment = documents.render_pre2019(report)
    assert "<table" not in fragment
    root = lxml.html.fragment_fromstring(fragment)
    assert root.findtext(".//h1") == "某县民政局2015年政府信息公开工作年度报告"
    assert "共主动公开政府信息321条" in root.text_content()
    sections = {"overview": "2015年，某县民政局完善工作机制。\n（一）主动公开。", "problems": "解读形式单一。"}
    root = lxml.html.fragment_fromstring(documents.render_pre2019({**report, "sections": sections}))
    paragraphs = [p.text_content() for p in root.iter("p")]
    assert paragraphs[paragraphs.index("一、概述") + 1 :][:2] == ["2015年，某县民政局完善工作机制。", "（一）主动公开。"]
    assert paragraphs[-1] == "解读形式单一。" and "共主动公开政府信息321条" in root.text_content()


@needs_soffice
def test_wps_is_ole2_word_binary_stamped_as_wps_office_does(report_2019):
    data = documents.render_wps(report_2019)
    assert data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")
    assert "WordDocument".encode("utf-16-le") in data
    assert b"KSOProductBuildVer" in data and b"2052-" in data
    assert sniff(data) == "wps"
    assert sniff(documents.render_doc(report_2019)) == "doc"


@needs_soffice
def test_copier_scan_is_skewed_grey_and_sealed(report_2019):
    import numpy as np
    import pypdfium2

    from nianbao.parse.readers.ocr import skew_angle

    data = documents.render_copier_scan(report_2019, skew=1.5, seed=3)
    assert sniff(data) == "pdf" and data == documents.render_copier_scan(report_2019, skew=1.5, seed=3)
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        assert all(page.chars == [] and len(page.images) == 1 for page in pdf.pages)
    document = pypdfium2.PdfDocument(data)
    try:
        pages = [np.asarray(document[i].render(scale=150 / 72).to_pil().convert("RGB")).astype(int)
                 for i in range(len(document))]
    finally:
        document.close()
    for page in pages:
        from PIL import Image

        assert 1.2 <= abs(skew_angle(Image.fromarray(page.astype(np.uint8)))) <= 1.8
        assert 200 < np.median(page) < 240  # grey paper, not white
    red = [int(((p[..., 0] - p[..., 1]) > 80).sum()) for p in pages]
    assert red[-1] > 2000 and not any(red[:-1])  # the seal, on the last page only
