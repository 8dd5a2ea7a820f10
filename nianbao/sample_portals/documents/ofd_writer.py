"""The report as OFD (GB/T 33190): a zip of XML, text objects and ruled lines placed as the PDF prints them."""

from __future__ import annotations

import hashlib
import io
import zipfile
from xml.sax.saxutils import escape, quoteattr

import pdfplumber

from nianbao.sample_portals.documents.blocks import report_title
from nianbao.sample_portals.documents.docx_writer import report_datetime
from nianbao.sample_portals.documents.pdf_writer import render_pdf

NS = "http://www.ofdspec.org/2016"
MM_PER_PT = 25.4 / 72


def _mm(value: float) -> str:
    return f"{value * MM_PER_PT:.3f}".rstrip("0").rstrip(".")


def render_ofd(report: dict) -> bytes:
    """A minimal valid OFD: OFD.xml, Document.xml, PublicRes.xml and one Content.xml per page."""
    pdf_bytes = render_pdf(report)
    next_id = 10
    pages_xml: list[str] = []
    width_mm, height_mm = 210.0, 297.0
    with pdfplumber.open(io.BytesIO(pdf_bytes)) as pdf:
        for page in pdf.pages:
            width_mm, height_mm = float(page.width) * MM_PER_PT, float(page.height) * MM_PER_PT
            objects = []
            for edge in page.edges:
                x0, top, x1, bottom = edge["x0"], edge["top"], edge["x1"], edge["bottom"]
                w, h = x1 - x0, bottom - top
                objects.append(
                    f'<ofd:PathObject ID="{next_id}" Boundary="{_mm(x0)} {_mm(top)} {_mm(w)} {_mm(h)}" LineWidth="0.25">'
                    f"<ofd:AbbreviatedData>M 0 0 L {_mm(w)} {_mm(h)}</ofd:AbbreviatedData></ofd:PathObject>"
                )
                next_id += 1
            for word in page.extract_words(x_tolerance=1.5, y_tolerance=2):
                x0, top, x1, bottom = word["x0"], word["top"], word["x1"], word["bottom"]
                size = bottom - top
                text = word["text"]
                step = (x1 - x0) / max(len(text), 1)
                deltas = " ".join([_mm(step)] * (len(text) - 1))
                delta_attr = f' DeltaX="{deltas}"' if deltas else ""
                objects.append(
                    f'<ofd:TextObject ID="{next_id}" Boundary="{_mm(x0)} {_mm(top)} {_mm(x1 - x0)} {_mm(size)}" '
                    f'Font="2" Size="{_mm(size)}"><ofd:TextCode X="0" Y="{_mm(size * 0.88)}"{delta_attr}>'
                    f"{escape(text)}</ofd:TextCode></ofd:TextObject>"
                )
                next_id += 1
            pages_xml.append(
                f'<?xml version="1.0" encoding="UTF-8"?>\n<ofd:Page xmlns:ofd="{NS}"><ofd:Content>'
                f'<ofd:Layer ID="{next_id}">' + "".join(objects) + "</ofd:Layer></ofd:Content></ofd:Page>"
            )
            next_id += 1
    page_refs = "".join(
        f'<ofd:Page ID="{next_id + i}" BaseLoc="Pages/Page_{i}/Content.xml"/>' for i in range(len(pages_xml))
    )
    max_id = next_id + len(pages_xml)
    ofd_xml = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<ofd:OFD xmlns:ofd="{NS}" Version="1.0" DocType="OFD">'
        f"<ofd:DocBody><ofd:DocInfo><ofd:DocID>{_doc_id(report_title(report))}</ofd:DocID>"
        f"<ofd:Title>{escape(report_title(report))}</ofd:Title>"
        f"<ofd:CreationDate>{escape(str(report.get('published') or ''))}</ofd:CreationDate></ofd:DocInfo>"
        "<ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>"
    )
    document_xml = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<ofd:Document xmlns:ofd="{NS}"><ofd:CommonData>'
        f"<ofd:MaxUnitID>{max_id}</ofd:MaxUnitID><ofd:PageArea><ofd:PhysicalBox>0 0 {width_mm:.2f} {height_mm:.2f}"
        "</ofd:PhysicalBox></ofd:PageArea><ofd:PublicRes>PublicRes.xml</ofd:PublicRes></ofd:CommonData>"
        f"<ofd:Pages>{page_refs}</ofd:Pages></ofd:Document>"
    )
    public_res = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<ofd:Res xmlns:ofd="{NS}" BaseLoc="Res"><ofd:Fonts>'
        f'<ofd:Font ID="2" FontName={quoteattr("宋体")} FamilyName={quoteattr("宋体")}/></ofd:Fonts></ofd:Res>'
    )
    members = {"OFD.xml": ofd_xml, "Doc_0/Document.xml": document_xml, "Doc_0/PublicRes.xml": public_res}
    members.update({f"Doc_0/Pages/Page_{i}/Content.xml": page_xml for i, page_xml in enumerate(pages_xml)})
    # members dated by the report, not the clock, so the same report always gives the same bytes
    stamp = report_datetime(report).timetuple()[:6]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in members.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=stamp), text, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def _doc_id(title: str) -> str:
    """A 16-digit document id derived from the title (stable across processes, unlike hash())."""
    return f"{int(hashlib.sha1(title.encode()).hexdigest(), 16) % 10**16:016d}"
