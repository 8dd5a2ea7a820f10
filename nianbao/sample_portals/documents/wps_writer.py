"""The report as a Kingsoft WPS file (.wps), made the way WPS Office makes one.

WPS Office saves its own .wps format as an OLE2 compound file holding a Word 97 binary document, and
stamps every file with the custom document property `KSOProductBuildVer` ("2052-<build>": 2052 is the
zh-CN locale). Here the DOCX gets that property (docProps/custom.xml, as WPS writes it in its DOCX) and
LibreOffice saves it as Word 97, which carries the property into the OLE file's
DocumentSummaryInformation stream: the bytes a portal serves as 年报.wps.
"""

from __future__ import annotations

import io
import zipfile

from nianbao.sample_portals.documents.docx_writer import render_docx, report_datetime
from nianbao.sample_portals.documents.office import convert

KSO_BUILD = "2052-11.1.0.12313"
_CUSTOM_XML = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties" '
    'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
    '<property fmtid="{D5CDD505-2E9C-101B-9397-08002B2CF9AE}" pid="2" name="KSOProductBuildVer">'
    f"<vt:lpwstr>{KSO_BUILD}</vt:lpwstr></property></Properties>"
)
_CUSTOM_TYPE = (
    '<Override PartName="/docProps/custom.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.custom-properties+xml"/>'
)
_CUSTOM_REL = (
    '<Relationship Id="rIdKso" Target="docProps/custom.xml" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/custom-properties"/>'
)


def _with_kso_property(docx: bytes, report: dict) -> bytes:
    stamp = report_datetime(report).timetuple()[:6]
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(docx)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            body = source.read(info.filename)
            if info.filename == "[Content_Types].xml":
                body = body.replace(b"</Types>", _CUSTOM_TYPE.encode() + b"</Types>")
            elif info.filename == "_rels/.rels":
                body = body.replace(b"</Relationships>", _CUSTOM_REL.encode() + b"</Relationships>")
            target.writestr(zipfile.ZipInfo(info.filename, date_time=stamp), body, zipfile.ZIP_DEFLATED)
        target.writestr(zipfile.ZipInfo("docProps/custom.xml", date_time=stamp), _CUSTOM_XML, zipfile.ZIP_DEFLATED)
    return out.getvalue()


def render_wps(report: dict) -> bytes:
    """A .wps file: OLE2, Word 97 binary body, WPS's KSOProductBuildVer property (needs LibreOffice)."""
    return convert(_with_kso_property(render_docx(report), report), "docx", "doc:MS Word 97")
