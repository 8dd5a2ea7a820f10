"""The Chinese texts of the parser's findings, keyed by the finding's code (its rule id) — one table.

A finding keeps its machine-readable code (`rule`), its cells (keys) and its delta; `detail` is the
sentence a reader sees on the catalog's pages, made here from the rule's statement (template.json) and
the template's Chinese cell labels, so every finding reads alike whichever check made it.
"""

from __future__ import annotations

from collections.abc import Iterable

# code → the sentence; {statement} is the rule's statement in template.json.
FINDING_MESSAGES = {
    # the sum rules: one sentence per failing scope (a column, a row or a group of table 4)
    "t3.balance": "{statement}——{scope}：左边合计 {left}，右边合计 {right}",
    "t3.outcomes_sum": "{statement}——{scope}：左边合计 {left}，右边合计 {right}",
    "t3.row_total": "{statement}——{scope}：左边合计 {left}，右边合计 {right}",
    "t4.group_total": "{statement}——{scope}：左边合计 {left}，右边合计 {right}",
    "t3.carry_link": "{statement}——{scope}：本年 {left}，上一年度 {right}",
    "format.year": "{statement}——{year}年度的报告使用{version}版模板，应为{expected}版",
    # made by the catalog (catalog/deadlines.py), from the dates of a body's reports for a year
    "publish.late": "{published}发布，晚于法定期限{deadline}共{days}天",
}
# Clauses added to a finding's sentence, by what they say.
FINDING_CLAUSES = {
    "blank_cells": "（空白单元格按0计：{cells}）",
    "inferred_cells": "（报告未印出、按勾稽关系推算：{cells}）",
    "previous_report": "（上一年度：报告 {report}）",
}
# How a rule's scope is named: over a column of table 3, a row of table 3, a group of table 4.
SCOPE_NAMES = {"t3.column": "{label}列", "t3.row": "“{label}”行", "t4.group": "{label}"}
PREVIOUS_YEAR = "上一年度"


def finding_detail(code: str, **values) -> str:
    """The sentence of a finding with this code (a rule id)."""
    return FINDING_MESSAGES[code].format(**values)


def finding_clause(kind: str, **values) -> str:
    """A clause added to a finding's sentence (blank cells, inferred cells, the previous year's report)."""
    return FINDING_CLAUSES[kind].format(**values)


def scope_name(over: str, label: str) -> str:
    """'t3.column', '自然人' → '自然人列'."""
    return SCOPE_NAMES[over].format(label=label)


def cell_names(keys: Iterable[str], labels: dict[str, str], previous_prefix: str = "previous:") -> str:
    """Cell keys by their template labels ('（一）予以公开 · 自然人'), the key itself when it has none."""
    names = []
    for key in keys:
        earlier = key.startswith(previous_prefix)
        bare = key[len(previous_prefix):] if earlier else key
        name = labels.get(bare, bare)
        names.append(f"{PREVIOUS_YEAR}{name}" if earlier else name)
    return "、".join(names)


# --------------------------------------------------------------------------- warnings
# What the parser noticed while reading a report (reports.warnings): code → the sentence. Each warning
# starts with where it was seen (WHERE), then a colon and the sentence.
WHERE = {
    "line": "第{line}行",
    "t2_row": "第{line}行（表二 {label}）",
    "t3_row": "第{line}行（表三 {label}）",
    "t4": "第{line}行（表四）",
    "t4_row": "第{line}行（表四 {label}）",
    "page": "第{page}页",
}
WARNING_MESSAGES = {
    # row labels
    "label.fuzzy": "印出的标签“{printed}”按模糊匹配读作“{label}”（相差{distance}个字）",
    "label.ambiguous": "印出的标签“{printed}”与{candidates}同样接近，未作猜测，本行留空",
    "label.unrecognised": "表格行标签“{label}”无法识别",
    # values
    "value.not_number": "“{cell}”不是数字，留空",
    "value.split_by_space": "“{text}”有歧义（一个数中间有空格，还是两个数？），留空",
    "value.stray_mark": "“{text}”读作 {value}（去掉了多余的符号）",
    "value.read_as": "“{text}”读作 {value}",
    "value.chinese_numeral": "中文数字“{text}”读作 {value}",
    "value.to_wanyuan": "“{text}”换算为 {value} 万元",
    "value.to_wanyuan_by_header": "“{text}”（{unit}，按表头所注单位）换算为 {value} 万元",
    # table 2
    "t2.other_template": "表二使用{version}版模板，表三、表四使用{own}版模板；表二按{version}版的行读取",
    "t2.header_stand_in": "表头标签{labels}按其所在位置读作模板的对应列",
    "t2.column_missing": "未印出{columns}列，留空",
    "t2.columns_ignored": "印出的列{columns}不属于本行的模板列，其数值未采用",
    "t2.columns_reordered": "各列按{columns}的顺序印出，按表头读取",
    "t2.header_count": "表头印出{count}列（{labels}），但本行有{values}个数值；按模板的列顺序读取",
    "t2.values_unsettled": "{values}个数值对应{columns}列，无法判断缺少哪一个，本行留空",
    "t2.header_cut_short": "表二表头“{text}”（不完整）读作“{label}”，按模板顺序确定",
    "t2.header_other_template": "表二表头“{text}”不是{version}版模板的列，其数值未采用",
    "t2.header_unknown": "表二表头“{text}”不对应{version}版模板的任何列，其数值未采用",
    "t2.header_fuzzy": "表二表头“{text}”按模糊匹配读作“{label}”",
    # table 3
    "t3.header_fuzzy": "表三表头“{text}”按模糊匹配读作“{label}”",
    "t3.header_stand_in": "表三表头“{text}”读作“{label}”：表头中唯一未出现的模板列，位于其位置",
    "t3.header_count": "表三表头印出{count}个申请人列（{labels}），但各行的数值个数不同；按模板的列顺序读取",
    "t3.header_missing": "表三表头：未印出{columns}列，这些单元格留空",
    "t3.header_extra": "表三表头：印出的列{columns}不属于模板，其数值未采用",
    "t3.columns_reordered": "表三各列按{columns}的顺序印出，按表头读取",
    "t3.continues": "表三在最后一行之后仍有内容（文件中另有一份报告？），保留第一张表",
    "t3.row_twice": "此行重复印出，保留第一次",
    "t3.foreign_row": "{version}版表格中出现{other}版模板的行，记为 t3.{key}",
    "t3.extra_values": "{values}个数值对应{columns}列；最左边的{extra}个视为模板没有的列，未采用",
    "t3.lost_cell_unsettled": "{values}个数值对应{columns}列，行合计无法确定缺失的一个；申请人各列留空",
    "t3.lost_cell_inferred": "{values}个数值对应{columns}列；按行合计推算出缺失的单元格",
    "t3.lost_cell_no_place": "缺失一个单元格，行合计和列合计都无法确定其位置；单元格{cells}留空",
    "t3.lost_cell_placed": "缺失一个单元格，已放在行合计与列合计相符的位置",
    "t3.second_table": "又出现一张表三（文件中另有一份报告？），保留第一份报告的表格",
    "row.values_count": "{values}个数值对应{columns}个印出的列，本行留空",
    # table 4
    "t4.header_fuzzy": "表四表头“{text}”按模糊匹配读作“{label}”",
    "t4.header_twice": "表四表头“{text}”重复印出，第二列未采用",
    "t4.header_unknown": "表四表头“{text}”不对应模板的任何列，其数值未采用",
    "t4.not_split": "行政诉讼未分为未经复议直接起诉和复议后起诉，其单元格留空",
    "t4.group_missing": "表四表头：未印出{groups}，这些单元格留空",
    "t4.reordered": "表四各组或各列的印出顺序与模板不同，按表头读取",
    "t4.header_without_values": "表四表头之后没有数值",
    "t4.values_count": "{values}个数值对应{columns}列，表四留空",
    "t4.group_twice": "此组重复印出，保留第一次",
    "t4.row_missing": "表四：未印出{groups}行，这些单元格留空",
    "t4.column_missing": "表四表头：未印出{columns}列，这些单元格留空",
    "t4.group_per_row": "表四每行印出一组，按行标签和列表头读取",
    # the document as a whole
    "table.not_found": "未找到{table}，其单元格留空",
    "meta.sections_missing": "未找到以下部分的标题：{sections}",
    "meta.disagree": "各来源的{what}不一致：{values}",
    "meta.traditional": "正文为繁体字；标题、机关和各部分按简体字读取和保存",
    "meta.title_from_opening": "标题取自开头一句（正文没有标题行）",
    "meta.title_from_crawl": "标题取自抓取时的页面（正文中未找到）",
    "meta.agency_from_body": "报告机关取自报告的{where}（标题中没有机关名称）",
    "meta.agency_from_crawl": "报告机关取自抓取时的页面（标题中没有）",
    "meta.agency_traditional": "报告机关“{agency}”以繁体字印出，按简体字保存",
    "meta.year_from_crawl": "统计年度取自抓取时的页面",
    "meta.year_guessed": "统计年度 {year} 按正文中第一个“某年度”推断",
    "meta.year_from_period": "统计年度取自统计期限",
    "meta.no_template_table": "未找到模板表格，模板版本不明",
    # readers
    "ocr.read": "文字经 OCR 识别",
    "ocr.picture": "图片 {name} 经 OCR 识别",
    "ocr.frame": "第{frame}帧",
    "ocr.straightened": "页面倾斜 {angle}°，识别前已校正",
    "ocr.cell_unreadable": "位于（{x}, {y}）像素的表格单元格有印出内容，但 OCR 无法确认{saw}，留空",
    "ocr.saw": "（OCR 识别为 {readings}）",
    "pdf.ocr": "{reason}，文字经 OCR 识别",
    "pdf.header_repeated": "删去了 {rows} 行重复的表头",
    "doc.flattened": "antiword 读取时表格结构丢失",
    "doc.libreoffice": "经 LibreOffice 转换",
    "ofd.no_pages": "OFD 文件没有列出任何页面",
    "zip.member_read": "报告取自压缩包中的“{name}”（{kind}）",
    "zip.others_not_parsed": "压缩包中的其他文件未解析：{members}",
    "zip.member_problem": "压缩包中的文件 {problem}",
}
# Why a PDF page was read by OCR (the reader's reason codes).
OCR_REASONS = {"no text layer": "无文字层", "broken font map ((cid:N) glyphs)": "字体映射损坏（(cid:N) 字形）",
               "broken font map (unmapped glyphs)": "字体映射损坏（未映射的字形）"}
# The sources a report's metadata comes from, and what they state (meta.disagree, meta.agency_from_body).
SOURCE_NAMES = {"title": "标题", "body": "正文", "opening": "开头一句", "signature": "落款", "crawl": "抓取页面",
                "statistical period": "统计期限", "agency": "报告机关", "statistical year": "统计年度"}
SECTION_NAMES = {"overview": "一、总体情况", "proactive": "二、主动公开", "requests": "三、依申请公开",
                 "reviews": "四、复议诉讼", "problems": "五、问题及改进", "other": "六、其他事项"}
TABLE_NAMES = {"2": "表二", "3": "表三", "4": "表四"}


def where(kind: str, **values) -> str:
    """Where a warning was seen: where('t3_row', line=12, label='（一）予以公开') → '第12行（表三 （一）予以公开）'."""
    return WHERE[kind].format(**values)


def warning(code: str, at: str | None = None, **values) -> str:
    """The sentence of a warning with this code, after `at` (where it was seen) when given."""
    text = WARNING_MESSAGES[code].format(**values)
    return f"{at}：{text}" if at else text


def names(items: Iterable[str]) -> str:
    """Labels joined the Chinese way: '科研机构、其他'."""
    return "、".join(str(i) for i in items)


def t4_group_name(key: str) -> str:
    """A table 4 group by its template label ('litigation_direct' → '行政诉讼·未经复议直接起诉')."""
    from nianbao.template import load_template

    labels = {g["key"]: g["label"] for g in load_template().raw["table4"]["groups"]}
    return labels.get(key, key)


def t4_column_name(key: str) -> str:
    """A table 4 column by its template label ('upheld' → '结果维持')."""
    from nianbao.template import load_template

    labels = {c["key"]: c["label"] for c in load_template().raw["table4"]["columns"]}
    return labels.get(key, key)
