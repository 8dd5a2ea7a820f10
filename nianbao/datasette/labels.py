"""Chinese names for what the catalog stores in English: view columns, statuses, rules, regions.

The JSON API keeps the English keys; these labels are for the HTML pages a reader sees.
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
    # crawls
    "finished": "完成", "failed": "失败", "running": "进行中",
}
FORMAT_NAMES = {"2019": "2019版", "2021": "2021版", "pre2019": "2019年前"}
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
    "title": "标题", "findings_count": "勾稽问题数",
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
}
STATUS_COLUMNS = {("coverage", "status"), ("portal_status", "status"), ("portal_diagnoses", "status"),
                  ("crawls", "status")}


def region_label(code: str | None) -> str:
    """'230103' → '黑龙江省哈尔滨市南岗区' (empty for an unknown code)."""
    from catalog.agencies import region_of_code

    region = region_of_code(str(code) if code is not None else None)
    return f"{region.province}{region.city}{region.county}"


def rule_label(rule: str | None) -> str:
    """A rule's Chinese name (the code itself when there is none)."""
    return RULE_NAMES.get(rule or "", rule or "")
