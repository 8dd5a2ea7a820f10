"""A report as a sequence of blocks (headings, paragraphs, template tables) that every writer renders.

The tables follow the national template exactly (国办公开办函〔2019〕60号 and 〔2021〕30号): the same
rows, columns and merged cells the real documents print.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from nianbao.sample_portals.cells import T3_COLUMNS

T4_GROUPS = ["review", "litigation_direct", "litigation_after_review"]
T4_COLUMNS = ["upheld", "corrected", "other", "pending", "total"]
T4_COLUMN_LABELS = ["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"]

SECTION_HEADINGS = {
    "overview": "一、总体情况",
    "proactive": "二、主动公开政府信息情况",
    "requests": "三、收到和处理政府信息公开申请情况",
    "reviews": "四、政府信息公开行政复议、行政诉讼情况",
    "problems": "五、存在的主要问题及改进情况",
    "other": "六、其他需要报告的事项",
}


@dataclass
class Cell:
    """One printed table cell; covered positions of a merge are not listed (as in HTML)."""

    text: str
    colspan: int = 1
    rowspan: int = 1
    header: bool = False


@dataclass
class Table:
    """A template table: rows of cells; `header_rows` repeat when the table crosses a page."""

    name: str
    columns: int
    rows: list[list[Cell]]
    header_rows: int = 0
    column_widths: list[float] = field(default_factory=list)  # relative widths


@dataclass
class Paragraph:
    text: str
    style: str = "body"  # "title" | "heading" | "body" | "signature"
    # paged writers start a new page here; it places table 3 mid-page so that it crosses a page break
    page_break_before: bool = False


Block = Paragraph | Table


def format_value(value: float | int | None, null_text: str = "—") -> str:
    """A cell value as printed: integers plainly, money without trailing zeros, null as a dash or blank."""
    if value is None:
        return null_text
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return f"{value:.4f}".rstrip("0").rstrip(".")
    return str(value)


def report_title(report: dict) -> str:
    return report.get("title") or f"{report['agency']}{report['year']}年政府信息公开工作年度报告"


def default_sections(report: dict) -> dict[str, str]:
    """Plausible section texts for a report that carries none."""
    agency, year = report["agency"], report["year"]
    return {
        "overview": (
            f"{year}年，{agency}认真贯彻落实《中华人民共和国政府信息公开条例》，坚持以公开为常态、不公开为例外，"
            "扎实推进政府信息主动公开、依申请公开、政府信息管理和平台建设等各项工作。\n"
            "（一）主动公开。围绕重点领域及时公开政策文件、行政许可、行政处罚等信息。\n"
            "（二）依申请公开。严格依法依规办理政府信息公开申请，按时答复申请人。\n"
            "（三）政府信息管理。健全信息发布审核机制，落实保密审查制度。\n"
            "（四）平台建设。加强政府网站信息公开专栏建设，优化栏目设置。\n"
            "（五）监督保障。将政务公开纳入年度工作考核，明确专人负责。"
        ),
        "proactive": "",
        "requests": "",
        "reviews": "",
        "problems": (
            f"{year}年，我单位政府信息公开工作取得了一定成效，但也存在公开内容不够丰富、解读形式较为单一等问题。"
            "下一步，我们将进一步完善工作机制，丰富解读形式，提升政府信息公开工作质量。"
        ),
        "other": "本年度未收取信息处理费。无其他需要报告的事项。",
    }


def cell_text(report: dict, key: str) -> str:
    return format_value(report["cells"].get(key), report.get("null_text", "—"))


def table2(report: dict) -> Table:
    version = report["format_version"]
    rows: list[list[Cell]] = []

    def group(article: str, headers: list[str], items: list[tuple[str, list[str]]]) -> None:
        rows.append([Cell(article, colspan=4, header=True)])
        header = [Cell("信息内容", header=True)] + [Cell(h, header=True) for h in headers]
        _stretch_last(header, 4)
        rows.append(header)
        for label, keys in items:
            row = [Cell(label)] + [Cell(cell_text(report, f"t2.{k}")) for k in keys]
            _stretch_last(row, 4)
            rows.append(row)

    if version == "2019":
        three = ["上一年项目数量", "本年增/减", "处理决定数量"]
        group(
            "第二十条第（一）项",
            ["本年新制作数量", "本年新公开数量", "对外公开总数量"],
            [
                ("规章", ["regulations.made", "regulations.published", "regulations.total_public"]),
                (
                    "规范性文件",
                    ["normative_documents.made", "normative_documents.published", "normative_documents.total_public"],
                ),
            ],
        )
        group(
            "第二十条第（五）项",
            three,
            [
                ("行政许可", ["licensing.prior_items", "licensing.change", "licensing.decisions"]),
                (
                    "其他对外管理服务事项",
                    ["other_services.prior_items", "other_services.change", "other_services.decisions"],
                ),
            ],
        )
        group(
            "第二十条第（六）项",
            three,
            [
                ("行政处罚", ["penalty.prior_items", "penalty.change", "penalty.decisions"]),
                ("行政强制", ["coercion.prior_items", "coercion.change", "coercion.decisions"]),
            ],
        )
        group("第二十条第（八）项", three[:2], [("行政事业性收费", ["fees.prior_items", "fees.change"])])
        group(
            "第二十条第（九）项",
            ["采购项目数量", "采购总金额"],
            [("政府集中采购", ["procurement.items", "procurement.amount"])],
        )
    else:
        group(
            "第二十条第（一）项",
            ["本年制发件数", "本年废止件数", "现行有效件数"],
            [
                ("规章", ["regulations.issued", "regulations.repealed", "regulations.in_force"]),
                (
                    "行政规范性文件",
                    ["normative_documents.issued", "normative_documents.repealed", "normative_documents.in_force"],
                ),
            ],
        )
        group("第二十条第（五）项", ["本年处理决定数量"], [("行政许可", ["licensing.decisions"])])
        group(
            "第二十条第（六）项",
            ["本年处理决定数量"],
            [("行政处罚", ["penalty.decisions"]), ("行政强制", ["coercion.decisions"])],
        )
        group("第二十条第（八）项", ["本年收费金额（单位：万元）"], [("行政事业性收费", ["fees.amount"])])
    return Table("t2", 4, rows, header_rows=0, column_widths=[2.2, 1.6, 1.6, 1.6])


def _stretch_last(row: list[Cell], columns: int) -> None:
    """Widen the last cell so the row fills the table, as the template's short rows do."""
    used = sum(c.colspan for c in row)
    row[-1].colspan += columns - used


# (row key, group label or None, item label, group size) in template order, per version.
def table3_rows(version: str) -> list[tuple[str, str]]:
    """(row key, printed item label) of table 3 in template order."""
    rows = [
        ("granted", "（一）予以公开"),
        ("partially_granted", "（二）部分公开（区分处理的，只计这一情形，不计其他情形）"),
        ("withheld.state_secret", "1.属于国家秘密"),
        ("withheld.prohibited_by_law", "2.其他法律行政法规禁止公开"),
        ("withheld.security_stability", "3.危及“三安全一稳定”"),
        ("withheld.third_party_rights", "4.保护第三方合法权益"),
        ("withheld.internal_affairs", "5.属于三类内部事务信息"),
        ("withheld.deliberative", "6.属于四类过程性信息"),
        ("withheld.enforcement_files", "7.属于行政执法案卷"),
        ("withheld.administrative_query", "8.属于行政查询事项"),
        ("unable.not_held", "1.本机关不掌握相关政府信息"),
        ("unable.needs_compilation", "2.没有现成信息需要另行制作"),
        ("unable.unclear_after_correction", "3.补正后申请内容仍不明确"),
        ("not_processed.complaint", "1.信访举报投诉类申请"),
        ("not_processed.duplicate", "2.重复申请"),
        ("not_processed.publication", "3.要求提供公开出版物"),
        ("not_processed.excessive", "4.无正当理由大量反复申请"),
        ("not_processed.confirmation", "5.要求行政机关确认或重新出具已获取信息"),
    ]
    if version == "2019":
        rows.append(("other_handling", "（六）其他处理"))
    else:
        rows += [
            ("other_handling.no_correction", "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请"),
            ("other_handling.fee_unpaid", "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请"),
            ("other_handling.other", "3.其他"),
        ]
    rows.append(("total_processed", "（七）总计"))
    return rows


_T3_GROUPS = {
    "withheld": ("（三）不予公开", 8),
    "unable": ("（四）无法提供", 3),
    "not_processed": ("（五）不予处理", 5),
    "other_handling": ("（六）其他处理", 3),
}


def table3(report: dict) -> Table:
    version = report["format_version"]

    def values(row_key: str) -> list[Cell]:
        return [Cell(cell_text(report, f"t3.{row_key}.{col}")) for col in T3_COLUMNS]

    rows: list[list[Cell]] = [
        [
            Cell("（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）", colspan=3, rowspan=3, header=True),
            Cell("申请人情况", colspan=7, header=True),
        ],
        [
            Cell("自然人", rowspan=2, header=True),
            Cell("法人或其他组织", colspan=5, header=True),
            Cell("总计", rowspan=2, header=True),
        ],
        [Cell(h, header=True) for h in ["商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他"]],
        [Cell("一、本年新收政府信息公开申请数量", colspan=3)] + values("new_received"),
        [Cell("二、上年结转政府信息公开申请数量", colspan=3)] + values("carried_over"),
    ]
    outcome_rows = table3_rows(version)
    seen_groups: set[str] = set()
    for index, (row_key, label) in enumerate(outcome_rows):
        row: list[Cell] = []
        if index == 0:
            row.append(Cell("三、本年度办理结果", rowspan=len(outcome_rows)))
        group = row_key.split(".")[0] if "." in row_key else None
        if group in _T3_GROUPS:
            if group not in seen_groups:
                seen_groups.add(group)
                group_label, size = _T3_GROUPS[group]
                row.append(Cell(group_label, rowspan=size))
            row.append(Cell(label))
        else:
            row.append(Cell(label, colspan=2))
        rows.append(row + values(row_key))
    rows.append([Cell("四、结转下年度继续办理", colspan=3)] + values("carried_forward"))
    return Table("t3", 10, rows, header_rows=3, column_widths=[1.0, 1.1, 2.6] + [0.75] * 7)


def table4(report: dict) -> Table:
    rows = [
        [Cell("行政复议", colspan=5, header=True), Cell("行政诉讼", colspan=10, header=True)],
        [Cell(h, rowspan=2, header=True) for h in T4_COLUMN_LABELS]
        + [Cell("未经复议直接起诉", colspan=5, header=True), Cell("复议后起诉", colspan=5, header=True)],
        [Cell(h, header=True) for h in T4_COLUMN_LABELS * 2],
        [Cell(cell_text(report, f"t4.{g}.{c}")) for g in T4_GROUPS for c in T4_COLUMNS],
    ]
    return Table("t4", 15, rows, header_rows=3, column_widths=[1.0] * 15)


def report_blocks(report: dict) -> list[Block]:
    """The whole report, in printed order, on the template of `report["format_version"]`."""
    sections = {**default_sections(report), **(report.get("sections") or {})}
    version_ref = "国办公开办函〔2019〕60号" if report["format_version"] == "2019" else "国办公开办函〔2021〕30号"
    blocks: list[Block] = [
        Paragraph(report_title(report), "title"),
        Paragraph(
            f"本报告根据《中华人民共和国政府信息公开条例》和《中华人民共和国政府信息公开工作年度报告格式》"
            f"（{version_ref}）要求编制。本报告中所列数据的统计期限自{report['year']}年1月1日起至"
            f"{report['year']}年12月31日止。"
        ),
    ]
    tables = {"proactive": table2(report), "requests": table3(report), "reviews": table4(report)}
    for key, heading in SECTION_HEADINGS.items():
        blocks.append(Paragraph(heading, "heading", page_break_before=key == "proactive"))
        blocks.extend(Paragraph(p) for p in sections.get(key, "").split("\n") if p.strip())
        if key in tables:
            blocks.append(tables[key])
    blocks.append(Paragraph(report["agency"], "signature"))
    if report.get("published"):
        y, m, d = (int(p) for p in report["published"][:10].split("-"))
        blocks.append(Paragraph(f"{y}年{m}月{d}日", "signature"))
    return blocks


def expand_grid(table: Table) -> list[list[Cell | None]]:
    """The table as a full grid: each cell at its top-left position, None at every covered position."""
    grid: list[list[Cell | None]] = [[None] * table.columns for _ in table.rows]
    taken = [[False] * table.columns for _ in table.rows]
    for r, row in enumerate(table.rows):
        c = 0
        for cell in row:
            while c < table.columns and taken[r][c]:
                c += 1
            if c >= table.columns:
                raise ValueError(f"table {table.name}: row {r} has more cells than {table.columns} columns")
            grid[r][c] = cell
            for dr in range(cell.rowspan):
                for dc in range(cell.colspan):
                    taken[r + dr][c + dc] = True
            c += cell.colspan
    return grid
