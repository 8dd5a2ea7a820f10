"""Chinese names for what the catalog stores in English: column headings, coded values, regions.

The catalog keeps stable codes (status `late`, rule `t3.balance`, provenance `inferred:<rule>`): SQL, the
JSON API and exports see those. Every HTML page a reader sees shows the Chinese label instead — in table
cells (the plugin's render_cell), in facets (`_facet_results.html`) and in the filter summary
(`table.html`'s table description) — all from `value_label`, so one vocabulary serves every page. Datasette's
own interface text (UI_TEXT) lives here too, for the template overrides.
"""

from __future__ import annotations

RULE_NAMES = {
    "t3.balance": "表三收支平衡不符",
    "t3.outcomes_sum": "表三办理结果之和不符",
    "t3.row_total": "表三行合计不符",
    "t4.group_total": "表四合计不符",
    "format.year": "模板版本与年度不符",
    "t3.carry_link": "上年结转与上年度结转下年度不符",
    "publish.late": "逾期发布（晚于法定期限）",
}
STATUS_NAMES = {
    # coverage
    "published": "按时发布", "late": "逾期发布", "missing": "未发布", "unknown": "无法获取",
    # portal diagnoses
    "ok": "正常", "no_column": "未找到年报栏目", "empty_column": "栏目为空", "blocked": "被拦截",
    "robots": "robots.txt 禁止", "unreachable": "无法访问", "not_crawled": "未抓取",
    # crawls (Scrapy's close reasons, and the catalog's own)
    "finished": "完成", "failed": "失败", "running": "进行中", "killed": "进程中止", "shutdown": "被停止",
    "rebuilt": "由存档重建", "closespider_timeout": "达到时间上限", "closespider_itemcount": "达到条目上限",
    "closespider_pagecount": "达到页面上限", "closespider_errorcount": "错误过多",
}
FORMAT_NAMES = {"2019": "2019版", "2021": "2021版", "pre2019": "2019年前"}
# The template's sums a cell not printed was settled by (cells.provenance inferred:<rule>+<rule>).
INFERENCE_NAMES = {"t3.row_total": "行合计", "t3.balance": "收支平衡", "t3.outcomes_sum": "办理结果之和",
                   "t4.group_total": "表四合计"}
PROVENANCE_NAMES = {"printed": "原文印出", "blank": "未印出（空白）", "inferred": "推算"}
FETCH_FAILURE_NAMES = {
    "redirect_loop": "重定向循环", "too_many_redirects": "重定向过多", "size_cap": "超过大小上限",
    "decode_error": "无法解码", "timeout": "超时", "connection": "连接失败", "dns": "域名解析失败",
    "tls": "TLS 错误", "address_refused": "地址被拒（内网地址）", "http_status": "HTTP 错误状态",
    "robots": "robots.txt 禁止", "truncated": "下载不完整", "budget": "超出抓取预算", "other": "其他",
}
DOCUMENT_KIND_NAMES = {"report_page": "报告页面", "attachment": "附件", "detail_page": "详情页（附件）",
                       "list_page": "列表页", "report": "报告", "list": "列表页", "entry": "入口页", "page": "页面"}
CURRENT_NAMES = {"1": "现行版本", "0": "已被替代"}
TABLE_NAMES = {"t2": "表二", "t3": "表三", "t4": "表四", "p08": "2008年条例时期（正文数字）"}
T3_COLUMN_NAMES = {
    "natural_person": "自然人", "commercial_enterprise": "商业企业", "research_institution": "科研机构",
    "social_welfare_org": "社会公益组织", "legal_services_org": "法律服务机构", "other_org": "其他",
    "total": "总计",
}
T4_COLUMN_NAMES = {"upheld": "结果维持", "corrected": "结果纠正", "other": "其他结果", "pending": "尚未审结",
                   "total": "总计"}
T4_GROUP_NAMES = {"review": "行政复议", "litigation_direct": "未经复议直接起诉",
                  "litigation_after_review": "复议后起诉"}
_COMMON = {
    "report_id": "报告", "agency_id": "机关编号", "agency": "报告机关", "region": "行政区划", "level": "层级",
    "year": "年度", "format_version": "模板", "row_key": "行键", "row_label": "项目", "position": "序",
    "province": "省", "city": "市", "county": "县区", "portal_id": "主门户", "portals": "门户",
    "status": "发布情况", "published": "发布日期", "deadline": "法定期限", "days_late": "逾期天数",
    "title": "标题", "findings_count": "勾稽问题数", "provenance": "未印出的单元格", "Link": "链接",
}
VIEW_COLUMNS: dict[str, dict[str, str]] = {
    "table2": {**_COMMON, "issued": "本年制发件数", "repealed": "本年废止件数", "in_force": "现行有效件数",
               "made": "本年新制作数量", "published": "本年新公开数量", "total_public": "对外公开总数量",
               "prior_items": "上一年项目数量", "change": "本年增/减", "decisions": "本年处理决定数量",
               "items": "采购项目数量", "amount": "金额（万元）"},
    "table3": {**_COMMON, **T3_COLUMN_NAMES},
    "table4": {**_COMMON, "grp": "类别", **T4_COLUMN_NAMES},
    "report_summary": {**_COMMON, "new_requests": "本年新收申请", "carried_over": "上年结转",
                       "total_processed": "办理总计", "carried_forward": "结转下年度", "granted": "予以公开",
                       "partially_granted": "部分公开", "granted_share": "予以公开占比", "reviews": "行政复议",
                       "reviews_corrected": "复议纠正", "lawsuits": "行政诉讼", "lawsuits_corrected": "诉讼纠正"},
    "coverage": dict(_COMMON),
    "agencies": {"id": "编号", "name": "报告机关", "variants": "名称变体（年度）", "region": "行政区划",
                 "province": "省", "city": "市", "county": "县区", "level": "层级", "portals": "门户",
                 "first_year": "首见年度", "reports": "报告数", "match_key": "归并键", "own_portals": "本机关门户"},
    "reports": {**_COMMON, "region": "门户行政区划", "level": "门户层级", "id": "报告", "document_id": "文件", "parser_version": "解析器版本", "portal_id": "门户",
                "agency": "报告署名机关", "agency_id": "报告机关", "is_current": "现行版本", "source_url": "原文 / 存档副本",
                "sha256": "SHA-256", "content_type": "文件类型", "parsed_at": "解析时间", "warnings": "解析提示",
                "archived_at": "存档时间", "section_overview": "一、总体情况", "section_proactive": "二、主动公开",
                "section_requests": "三、依申请公开", "section_reviews": "四、复议诉讼", "section_problems": "五、问题及改进",
                "section_other": "六、其他事项"},
    "findings": {"id": "编号", "report_id": "报告", "rule": "勾稽规则", "detail": "说明", "delta": "差额",
                 "cells": "涉及单元格"},
    "cells": {"report_id": "报告", "key": "单元格", "value": "数值", "provenance": "来源", "Link": "链接"},
    "cell_keys": {"key": "单元格键", "table_no": "表", "row_key": "行键", "column_key": "列键", "label": "模板标签",
                  "row_label": "行", "column_label": "列", "unit": "单位", "position": "序"},
    "portal_status": {"portal_id": "门户", "agency": "门户机关", "region": "行政区划", "status": "抓取情况"},
    "portal_diagnoses": {"Link": "链接", "crawl_id": "抓取批次", "portal_id": "门户", "status": "诊断", "reports": "报告数",
                         "errors": "错误数", "reason": "原因", "detail": "详情", "at": "时间"},
    "fetch_failures": {"id": "编号", "crawl_id": "抓取批次", "portal_id": "门户", "url": "网址", "referer": "来源页",
                       "kind": "类型", "reason": "原因", "detail": "详情", "at": "时间"},
    "documents": {"id": "编号", "sha256": "SHA-256 摘要", "warc_record_id": "WARC 记录", "portal_id": "门户", "kind": "类型", "title": "标题",
                  "year": "年度", "published": "发布日期", "index_no": "索引号", "publisher": "发布机构",
                  "content_type": "文件类型", "filename": "文件名", "url": "网址", "first_seen": "首次发现",
                  "last_seen": "最近发现"},
    "portals": {"id": "门户", "agency": "门户机关", "url": "网址", "region": "行政区划", "level": "层级",
                "render": "浏览器渲染", "allow_private": "允许内网", "notes": "备注"},
    "crawls": {"id": "抓取批次", "started_at": "开始", "ended_at": "结束", "portals_file": "门户清单",
               "settings": "设置", "stats": "统计", "status": "结束状态"},
}
# Headings of canned-query columns (the query pages; the JSON keeps the SQL's names).
QUERY_COLUMNS: dict[str, str] = {
    **_COMMON, **VIEW_COLUMNS["report_summary"], "id": "编号", "rules": "不符的勾稽规则", "findings": "问题数",
    "largest_delta": "最大差额", "source_url": "原文", "is_current": "现行版本", "previous_year": "上一年度",
    "previous_carried_forward": "上年度结转下年度", "difference": "差额", "previous_report_id": "上年度报告",
    "previous_year_requests": "上年新收申请", "change": "增减", "change_percent": "增减（%）", "reports": "报告数",
    "corrected_total": "结果纠正合计", "snippet": "摘录", "matched": "检索词", "agency_id": "机关编号",
    "kind": "类型", "atom_title": "标题", "atom_updated": "更新时间", "atom_link": "链接", "atom_content": "内容",
    "atom_id": "条目编号", "errors": "错误数", "reason": "原因", "budget_hit": "触及预算", "crawl_id": "抓取批次",
    "at": "时间", "detail": "详情", "published": "发布日期", "q": "检索词",
}
STATUS_COLUMNS = {("coverage", "status"), ("portal_status", "status"), ("portal_diagnoses", "status"),
                  ("crawls", "status")}
# Coded columns, by column name wherever it appears (tables, views, canned queries) ...
_CODED_COLUMNS: dict[str, dict[str, str]] = {
    "rule": RULE_NAMES, "format_version": FORMAT_NAMES, "is_current": CURRENT_NAMES, "grp": T4_GROUP_NAMES,
    "table_no": TABLE_NAMES,
}
# ... and where the column name means different things in different tables, by (table, column).
_CODED_TABLE_COLUMNS: dict[tuple[str, str], dict[str, str]] = {
    **{key: STATUS_NAMES for key in STATUS_COLUMNS},
    ("fetch_failures", "reason"): FETCH_FAILURE_NAMES,
    ("fetch_failures", "kind"): DOCUMENT_KIND_NAMES,
    ("documents", "kind"): DOCUMENT_KIND_NAMES,
}
# Datasette's filter operators, as the filter dropdown and the filter summary name them.
FILTER_OPERATORS = {
    "exact": "=", "not": "≠", "contains": "包含", "notcontains": "不包含", "endswith": "结尾为",
    "startswith": "开头为", "gt": ">", "gte": "≥", "lt": "<", "lte": "≤", "like": "匹配（LIKE）",
    "notlike": "不匹配（LIKE）", "glob": "匹配（GLOB）", "in": "属于", "notin": "不属于", "arraycontains": "数组包含",
    "arraynotcontains": "数组不包含", "date": "日期为", "isnull": "为空", "notnull": "不为空", "isblank": "为空白",
    "notblank": "不为空白",
}
# Datasette's own interface text (its templates and table.js), keyed by the English it prints; the
# templates in templates/ ask for each phrase with ui("..."), so a phrase missing here shows in English
# and tests/test_chinese_ui.py names it.
UI_TEXT = {
    # navigation, menus, footer
    "home": "首页", "Menu": "菜单", "Log out": "退出登录", "Table actions": "表格操作",
    "Powered by": "技术支持：", "Queries took": "查询用时", "Data license:": "数据许可：",
    "Data source:": "数据来源：", "About:": "关于：",
    # table page: filters, sorting, search
    "Search:": "检索：", "- remove filter -": "- 移除筛选 -", "- column -": "- 选择列 -", "Sort...": "排序…",
    "Sort by": "排序：", "descending": "降序", "Apply": "应用", "Remove this filter": "移除此筛选",
    "view": "视图", "rows": "条记录", "where": "筛选：", "sorted by": "排序：", "ascending": "升序",
    "extra where clauses": "条附加 where 条件", "remove": "移除",
    "View and edit SQL": "查看和编辑 SQL", "This data as": "数据格式：", "advanced": "高级导出",
    "Suggested facets:": "建议分面：", "These facets timed out:": "以下分面超时：", "Next page": "下一页",
    "0 records": "0 条记录", "0 results": "0 条结果",
    # advanced export
    "Advanced export": "高级导出", "JSON shape:": "JSON 形式：", "default": "默认", "array": "数组",
    "newline-delimited": "逐行", "object": "对象", "CSV options:": "CSV 选项：", "download file": "下载文件",
    "expand labels": "展开标签", "stream all rows": "导出全部行", "Export CSV": "导出 CSV",
    # the column menu (table.js)
    "Sort ascending": "升序排列", "Sort descending": "降序排列", "Facet by this": "按此列分面",
    "Hide this column": "隐藏此列", "Show all columns": "显示所有列", "Show not-blank rows": "只显示非空行",
    "Type:": "类型：",
    # row page
    "Links from other tables": "其他表中的引用", "row": "条记录", "from": "来自",
    "in": "表",
    # query and database pages
    "Custom SQL query": "自定义 SQL 查询", "returning": "返回", "more than": "超过", "Query parameters": "查询参数",
    "Format SQL": "格式化 SQL", "Run SQL": "运行 SQL", "Edit SQL": "编辑 SQL", "hide": "隐藏", "show": "显示",
    "This query cannot be executed because the database is immutable.": "数据库为只读，此查询无法执行。",
    "Queries": "查询", "Tables": "表", "Views": "视图", "Many rows": "行数很多", "hidden table": "个隐藏表",
    "table": "表", "tables": "个表", "views": "个视图", "hidden": "隐藏", "... and": "……以及",
    "Database actions": "数据库操作", "Download SQLite DB:": "下载 SQLite 数据库：",
    "The following databases are attached to this connection, and can be used for cross-database joins:":
        "以下数据库已附加到此连接，可用于跨库联接：",
    # error page
    "Error": "错误", "Dashboards": "仪表板", "No dashboards found": "没有仪表板", "Fullscreen": "全屏", "Table not found": "未找到该表", "Row not found": "未找到该行",
    "Database not found": "未找到该数据库", "Page not found": "未找到该页面", "Query not found": "未找到该查询",
    "Record not found": "未找到该记录", "Permission denied": "没有权限", "Database download is forbidden": "不提供数据库下载",
    # datasette-vega's chart panel (_vega_zh.html)
    "Show charting options": "显示图表选项", "Hide charting options": "隐藏图表选项", "Charting options": "图表选项",
    "Bar": "柱状图", "Line": "折线图", "Scatter": "散点图", "X column": "X 轴列", "Y column": "Y 轴列", "Type": "类型",
    "Numeric": "数值", "Numeric, binned": "数值（分组）", "Date/time": "日期时间", "Date/time, binned": "日期时间（分组）",
    "Label": "标签", "Category": "类别", "Swap X and Y": "交换 X 轴和 Y 轴", "Color": "颜色", "Size": "大小",
    "-- none --": "-- 无 --",
    # the plugin's own search on reports (its descriptions in Datasette's human_description_en)
    "text contains": "全文包含", "current versions only": "仅现行版本", "search matches": "全文检索",
}


# The phrases datasette-vega's script prints (relabelled in the browser by _vega_zh.html).
VEGA_PHRASES = ("Show charting options", "Hide charting options", "Charting options", "Bar", "Line", "Scatter",
                "X column", "Y column", "Type", "Numeric", "Numeric, binned", "Date/time", "Date/time, binned",
                "Label", "Category", "Swap X and Y", "Color", "Size", "-- none --")


def ui(english: str) -> str:
    """The Chinese of one phrase of Datasette's interface (the phrase itself when none is known)."""
    return UI_TEXT.get(english, english)


def filter_summary(table: str | None, selections, column_labels: dict[str, str] | None = None) -> str:
    """Datasette's filters ((column, lookup, value) triples) in Chinese: '发布情况 = 逾期发布；年度 ≥ 2020' —
    column headings, operators and coded values by their labels (the English original is
    Datasette's human_description_en, built in Python)."""
    labels = column_labels if column_labels is not None else VIEW_COLUMNS.get(table or "", {})
    clauses = []
    for column, lookup, value in selections:
        clause = f"{labels.get(column, column)} {FILTER_OPERATORS.get(lookup, lookup)}"
        if value and lookup not in ("isnull", "notnull", "isblank", "notblank"):
            parts = value.split(",") if lookup in ("in", "notin") else [value]
            clause += " " + "、".join(value_label(table, column, p.strip()) or p.strip() for p in parts)
        clauses.append(clause)
    return "；".join(clauses)


def table_description(table: str | None, count: int | None, selections=(), extra=(), sort: str | None = None,
                      sort_desc: str | None = None, column_labels: dict[str, str] | None = None) -> str:
    """The Chinese line above a table — '12 条记录 · 筛选：发布情况 = 逾期发布 · 排序：年度 降序' — in place of
    Datasette's '12 rows where status = "late" sorted by year descending'. extra: phrases the
    plugin's own filters add (already Chinese)."""
    labels = column_labels if column_labels is not None else VIEW_COLUMNS.get(table or "", {})
    bits = []
    if count is not None:
        bits.append(f"{count:,} {ui('rows')}")
    conditions = [*extra, filter_summary(table, selections, labels)]
    conditions = [c for c in conditions if c]
    if conditions:
        bits.append(ui("where") + "；".join(conditions))
    if sort or sort_desc:
        column = sort or sort_desc
        bits.append(f"{ui('sorted by')}{labels.get(column, column)} {ui('descending' if sort_desc else 'ascending')}")
    return " · ".join(bits)
# Canned queries (no table) whose `status` column holds these statuses.
_QUERY_STATUS = STATUS_NAMES


def region_label(code: str | None) -> str:
    """'230103' → '黑龙江省哈尔滨市南岗区' (empty for an unknown code)."""
    from catalog.agencies import region_of_code

    region = region_of_code(str(code) if code is not None else None)
    return f"{region.province}{region.city}{region.county}"


def rule_label(rule: str | None) -> str:
    """A rule's Chinese name (the code itself when there is none)."""
    return RULE_NAMES.get(rule or "", rule or "")


def provenance_label(value: str, columns: dict[str, str] | None = None) -> str:
    """'inferred:t3.row_total' → '推算（行合计）'; a view's 'total=inferred:t3.balance; other=blank' → each
    column's heading (from columns) with its label."""
    def one(code: str) -> str:
        kind, _, rules = code.partition(":")
        name = PROVENANCE_NAMES.get(kind, kind)
        if rules:
            name += "（" + "＋".join(INFERENCE_NAMES.get(r, r) for r in rules.split("+")) + "）"
        return name

    if "=" not in value:
        return one(value.strip())
    parts = []
    for item in value.split(";"):
        column, _, code = item.strip().partition("=")
        parts.append(f"{(columns or {}).get(column, column)}：{one(code)}")
    return "；".join(parts)


def value_label(table: str | None, column: str, value) -> str | None:
    """The Chinese label of a coded value in table.column (table None: a canned query), or None when the
    value is not a code this vocabulary knows (free text, numbers, names)."""
    if value is None or value == "" or isinstance(value, (bytes, dict)):
        return None
    text = str(value)
    if column == "provenance":
        return provenance_label(text, VIEW_COLUMNS.get(table or "", {}))
    if column == "region" and text.isdigit():
        return region_label(text) or None
    if column == "rules":  # a canned query's comma-separated rule codes
        names = [RULE_NAMES.get(code.strip()) for code in text.split(",")]
        return "、".join(n for n in names if n) if all(names) else None
    vocabulary = _CODED_TABLE_COLUMNS.get((table or "", column)) or _CODED_COLUMNS.get(column)
    if vocabulary is None and table is None and column == "status":
        vocabulary = _QUERY_STATUS
    return vocabulary.get(text) if vocabulary else None


def coded_labels(table: str | None, column: str, values) -> dict[str, str]:
    """value → Chinese label for those of values that are codes (for facets and filters)."""
    out = {}
    for value in values:
        label = value_label(table, column, value)
        if label:
            out[str(value)] = label
    return out
