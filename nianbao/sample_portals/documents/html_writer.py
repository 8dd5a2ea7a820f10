"""The report as the article fragment of a portal detail page: title, paragraphs, real HTML tables."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape

from nianbao.sample_portals.documents.blocks import Paragraph, Table, report_blocks

_PARAGRAPH_STYLE = {
    "title": '<h1 class="title" style="text-align:center">{}</h1>',
    "heading": '<p style="text-indent:2em"><strong>{}</strong></p>',
    "body": '<p style="text-indent:2em">{}</p>',
    "signature": '<p style="text-align:right">{}</p>',
}


def render_table(table: Table) -> str:
    """A template table with its merges as colspan/rowspan."""
    out = ['<table border="1" cellspacing="0" cellpadding="4" style="border-collapse:collapse;width:100%">']
    if table.header_rows:
        out.append("<thead>")
    for r, row in enumerate(table.rows):
        if table.header_rows and r == table.header_rows:
            out.append("</thead><tbody>")
        cells = []
        for cell in row:
            spans = ""
            if cell.colspan > 1:
                spans += f' colspan="{cell.colspan}"'
            if cell.rowspan > 1:
                spans += f' rowspan="{cell.rowspan}"'
            cells.append(f'<td{spans} style="text-align:center">{escape(cell.text)}</td>')
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table>" if table.header_rows else "</table>")
    return "\n".join(out)


def render_html(report: dict, table_images: Mapping[str, str] | None = None) -> str:
    """The report's article fragment (no page chrome): the portal wraps it in its own template.

    `table_images` maps a table name ("t2", "t3", "t4") to an image URL printed in its place; the
    image itself comes from `table_image.render_table_png`.
    """
    table_images = table_images or {}
    parts = ['<div class="article-content">']
    for block in report_blocks(report):
        if isinstance(block, Paragraph):
            parts.append(_PARAGRAPH_STYLE[block.style].format(escape(block.text)))
        elif block.name in table_images:
            parts.append(f'<p style="text-align:center"><img src="{escape(table_images[block.name])}" '
                         'style="max-width:100%"></p>')
        else:
            parts.append(render_table(block))
    parts.append("</div>")
    return "\n".join(parts)
