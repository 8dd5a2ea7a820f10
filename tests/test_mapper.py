"""Layout → cells on small layouts that each show one way real reports print their tables."""

from __future__ import annotations

from nianbao.parse import parse_layout
from nianbao.parse.layout import Layout
from nianbao.parse.mapper import map_layout

T3_LABELS_2021 = [
    ("new_received", ["一、本年新收政府信息公开申请数量"]),
    ("carried_over", ["二、上年结转政府信息公开申请数量"]),
    ("granted", ["三、本年度办理结果", "（一）予以公开"]),
    ("partially_granted", ["", "（二）部分公开（区分处理的，只计这一情形，不计其他情形）"]),
    ("withheld.state_secret", ["", "（三）不予公开", "1.属于国家秘密"]),
    ("withheld.prohibited_by_law", ["", "", "2.其他法律行政法规禁止公开"]),
    ("withheld.security_stability", ["", "", "3.危及“三安全一稳定”"]),
    ("withheld.third_party_rights", ["", "", "4.保护第三方合法权益"]),
    ("withheld.internal_affairs", ["", "", "5.属于三类内部事务信息"]),
    ("withheld.deliberative", ["", "", "6.属于四类过程性信息"]),
    ("withheld.enforcement_files", ["", "", "7.属于行政执法案卷"]),
    ("withheld.administrative_query", ["", "", "8.属于行政查询事项"]),
    ("unable.not_held", ["", "（四）无法提供", "1.本机关不掌握相关政府信息"]),
    ("unable.needs_compilation", ["", "", "2.没有现成信息需要另行制作"]),
    ("unable.unclear_after_correction", ["", "", "3.补正后申请内容仍不明确"]),
    ("not_processed.complaint", ["", "（五）不予处理", "1.信访举报投诉类申请"]),
    ("not_processed.duplicate", ["", "", "2.重复申请"]),
    ("not_processed.publication", ["", "", "3.要求提供公开出版物"]),
    ("not_processed.excessive", ["", "", "4.无正当理由大量反复申请"]),
    ("not_processed.confirmation", ["", "", "5.要求行政机关确认或重新出具已获取信息"]),
    ("other_handling.no_correction", ["", "（六）其他处理", "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请"]),
    ("other_handling.fee_unpaid", ["", "", "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请"]),
    ("other_handling.other", ["", "", "3.其他"]),
    ("total_processed", ["", "（七）总计"]),
    ("carried_forward", ["四、结转下年度继续办理"]),
]
T3_HEADER = [
    ["（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）", "", "", "申请人情况", "", "", "", "", "", ""],
    ["", "", "", "自然人", "法人或其他组织", "", "", "", "", "总计"],
    ["", "", "", "", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", ""],
]
T2_2021 = [
    ["二、主动公开政府信息情况"],
    ["第二十条第（一）项"], ["信息内容", "本年制发件数", "本年废止件数", "现行有效件数"],
    ["规章", "0", "1", "2"], ["行政规范性文件", "3", "4", "5"],
    ["第二十条第（五）项"], ["信息内容", "本年处理决定数量"], ["行政许可", "5,137"],
    ["第二十条第（六）项"], ["信息内容", "本年处理决定数量"], ["行政处罚", "13"], ["行政强制", "—"],
    ["第二十条第（八）项"], ["信息内容", "本年收费金额（单位：万元）"], ["行政事业性收费", "251000元"],
]
T4_HEADER = [
    ["行政复议", "", "", "", "", "行政诉讼"],
    ["结果维持", "结果纠正", "其他结果", "尚未审结", "总计", "未经复议直接起诉", "", "", "", "", "复议后起诉"],
    ["", "", "", "", "", "结果维持", "结果纠正", "其他结果", "尚未审结", "总计",
     "结果维持", "结果纠正", "其他结果", "尚未审结", "总计"],
]
T4_VALUES = ["1", "0", "0", "0", "1", "0", "1", "0", "1", "2", "", "", "", "", ""]

# natural_person counts per row: 3 new + 1 carried = 2 granted + 1 not_held + 1 forward
NATURAL = {"new_received": 3, "carried_over": 1, "granted": 2, "unable.not_held": 1, "total_processed": 3,
           "carried_forward": 1}


def row_values(key: str) -> list[str]:
    n = NATURAL.get(key, 0)
    return [str(n), "0", "0", "0", "0", "0", str(n)]


def t3_lines(labels=T3_LABELS_2021) -> list[list[str]]:
    return [label + row_values(key) for key, label in labels]


def report(t3=None, t2=None, t4=None, title="某某区卫生健康局2022年政府信息公开工作年度报告") -> Layout:
    lines = [[title], ["一、总体情况"], ["本年度我局认真贯彻落实《条例》，做好政府信息公开工作。"]]
    lines += T2_2021 if t2 is None else t2
    lines += [["三、收到和处理政府信息公开申请情况"]] + T3_HEADER + (t3_lines() if t3 is None else t3)
    lines += [["四、政府信息公开行政复议、行政诉讼情况"]] + (T4_HEADER + [T4_VALUES] if t4 is None else t4)
    lines += [["五、存在的主要问题及改进情况"], ["政策解读形式还不够丰富。"], ["六、其他需要报告的事项"], ["无。"]]
    return Layout(lines=lines, kind="html")


def assert_t3_consistent(cells: dict) -> None:
    for key, _ in T3_LABELS_2021:
        assert cells[f"t3.{key}.natural_person"] == NATURAL.get(key, 0), key
        assert cells[f"t3.{key}.total"] == NATURAL.get(key, 0), key
        assert cells[f"t3.{key}.other_org"] == 0, key


def test_clean_table_maps_every_cell() -> None:
    mapped = map_layout(report())
    assert mapped.version == "2021"
    assert mapped.tables_found == ["t2", "t3", "t4"]
    assert_t3_consistent(mapped.cells)
    assert mapped.cells["t2.normative_documents.in_force"] == 5
    assert mapped.cells["t2.licensing.decisions"] == 5137
    assert mapped.cells["t2.coercion.decisions"] is None
    assert mapped.cells["t2.fees.amount"] == 25.1
    assert any("25.1 万元" in w for w in mapped.warnings)
    assert mapped.cells["t4.litigation_direct.total"] == 2
    assert mapped.cells["t4.litigation_after_review.total"] is None


def test_tab_runs_with_trailing_tabs_and_leading_merge_cells() -> None:
    t3 = [label + [""] + row_values(key) + [""] for key, label in T3_LABELS_2021]
    assert_t3_consistent(map_layout(report(t3=t3)).cells)


def test_one_value_per_line() -> None:
    t3 = []
    for key, label in T3_LABELS_2021:
        t3.append([c for c in label if c])
        t3 += [[v] for v in row_values(key)]
    t4 = [[c] for line in T4_HEADER for c in line if c] + [[v] for v in ["0"] * 14 + ["3"]]
    mapped = map_layout(report(t3=t3, t4=t4))
    assert_t3_consistent(mapped.cells)
    assert mapped.cells["t4.litigation_after_review.total"] == 3
    assert mapped.cells["t4.review.upheld"] == 0


def test_label_split_over_two_lines() -> None:
    t3 = t3_lines()
    t3[3] = ["（二）部分公开（区分处理的，只计这"]
    t3.insert(4, ["一情形，不计其他情形）"] + row_values("partially_granted"))
    t3[5] = ["（三）不予公开1.属于国家", ""]
    t3.insert(6, ["秘密"] + row_values("withheld.state_secret"))
    mapped = map_layout(report(t3=t3))
    assert_t3_consistent(mapped.cells)
    assert not [w for w in mapped.warnings if "无法识别" in w]


def test_label_fused_with_group_label() -> None:
    t3 = [["".join(label)] + row_values(key) for key, label in T3_LABELS_2021]
    assert_t3_consistent(map_layout(report(t3=t3)).cells)


def test_truncated_labels() -> None:
    labels = dict(T3_LABELS_2021)
    labels["not_processed.excessive"] = ["", "", "4. 无正当理由大量反复申"]
    labels["not_processed.confirmation"] = ["", "", "5.要求行政机关确认或重新出"]
    labels["other_handling.fee_unpaid"] = ["", "", "2.申请人逾期未按收费通知要求缴纳费"]
    labels["unable.needs_compilation"] = ["", "", "2.没有现成信息需"]
    mapped = map_layout(report(t3=t3_lines(list(labels.items()))))
    assert_t3_consistent(mapped.cells)


def test_results_group_label_printed_below_its_rows() -> None:
    labels = dict(T3_LABELS_2021)
    labels["granted"] = ["（一）予以公开"]
    labels["unable.not_held"] = ["三、本年度办理结果", "（四）无法提供", "1.本机关不掌握相关政府信息"]
    assert_t3_consistent(map_layout(report(t3=t3_lines(list(labels.items())))).cells)


def test_lost_cell_inferred_when_row_total_settles_it() -> None:
    t3 = t3_lines()
    t3[5] = ["", "", "2.其他法律行政法规禁止公开", "0", "0", "0", "0", "0", "0"]  # six zeros: the lost one is 0
    t3[12] = ["", "（四）无法提供", "1.本机关不掌握相关政府信息", "1", "0", "0", "0", "0", "1"]
    mapped = map_layout(report(t3=t3))
    assert_t3_consistent(mapped.cells)
    assert sum("按行合计推算出缺失的单元格" in w for w in mapped.warnings) == 1
    assert sum("已放在行合计与列合计相符的位置" in w for w in mapped.warnings) == 1


def test_lost_cell_left_blank_when_nothing_settles_it() -> None:
    t3 = t3_lines()
    # 2 + 1 with a total of 4: the lost cell is 1, but it could sit in any of five columns.
    t3[2] = ["三、本年度办理结果", "（一）予以公开", "2", "1", "0", "0", "0", "4"]
    mapped = map_layout(report(t3=t3))
    cells = mapped.cells
    assert cells["t3.granted.total"] == 4
    assert cells["t3.granted.research_institution"] is None
    assert any("予以公开" in w and "留空" in w for w in mapped.warnings)


def test_header_repeated_after_page_break() -> None:
    t3 = t3_lines()
    t3 = t3[:10] + [["- 2 -"]] + T3_HEADER + t3[10:]
    mapped = map_layout(report(t3=t3))
    assert_t3_consistent(mapped.cells)
    assert not [w for w in mapped.warnings if "无法识别" in w or "重复印出" in w]


def test_two_reports_in_one_file_keep_the_first() -> None:
    first = report()
    second_t3 = [label + ["9", "0", "0", "0", "0", "0", "9"] for _, label in T3_LABELS_2021]
    second = report(t3=second_t3, t4=T4_HEADER + [["9"] * 15], title="某某区卫生健康局所属单位2022年政府信息公开工作年度报告")
    both = Layout(lines=first.lines + second.lines, kind="html")
    mapped = map_layout(both)
    assert_t3_consistent(mapped.cells)
    assert mapped.cells["t4.review.upheld"] == 1
    assert any("又出现一张表三" in w for w in mapped.warnings)
    parsed = parse_layout(both, "both.html")
    assert parsed.agency == "某某区卫生健康局"
    assert "政策解读形式" in parsed.sections["problems"]
    assert "某某区卫生健康局所属单位" not in parsed.sections["other"]


def test_table4_header_over_several_lines_and_values_on_one() -> None:
    t4 = [["行政复议"], ["行政诉讼"], ["结果维持", "结果纠正"], ["其他结果", "尚未审结", "总计"],
          ["未经复议直接起诉"], ["复议后起诉"], ["结果", "维持"], ["结果纠正"],
          ["", "1", "2", "0", "0", "3", "", "", "", "", "", "1", "0", "0", "0", "1"]]
    cells = map_layout(report(t4=t4)).cells
    assert [cells[f"t4.review.{c}"] for c in ("upheld", "corrected", "other", "pending", "total")] == [1, 2, 0, 0, 3]
    assert cells["t4.litigation_direct.total"] is None
    assert cells["t4.litigation_after_review.upheld"] == 1


def test_2019_template_detected_from_headers_and_year_mismatch_flagged() -> None:
    t2 = [["第二十条第（一）项"], ["信息内容", "本年新制作数量", "本年新公开数量", "对外公开总数量"],
          ["规章", "0", "0", "0"], ["规范性文件", "1", "1", "7"],
          ["第二十条第（五）项"], ["信息内容", "上一年项目数量", "本年增/减", "处理决定数量"],
          ["行政许可", "19", "减少3", "207"], ["其他对外管理服务事项", "0", "0", "0"],
          ["第二十条第（九）项"], ["信息内容", "采购项目数量", "采购总金额"], ["政府集中采购", "2", "35.5万元"]]
    labels = [(k, v) for k, v in T3_LABELS_2021 if not k.startswith("other_handling")]
    labels.insert(-2, ("other_handling", ["", "（六）其他处理"]))
    parsed = parse_layout(report(t2=t2, t3=t3_lines(labels)), "x.html")
    assert parsed.format_version == "2019"
    assert parsed.year == 2022
    assert "format.year" in {f["rule"] for f in parsed.findings}
    assert parsed.cells["t2.licensing.change"] == -3
    assert parsed.cells["t2.procurement.amount"] == 35.5
    assert parsed.cells["t3.other_handling.total"] == 0
    assert parsed.cells["t3.new_received.total"] == 3
    assert "t3.other_handling.fee_unpaid.total" not in parsed.cells


def test_no_template_tables_before_2019_is_pre2019_without_cells() -> None:
    layout = Layout(lines=[["某某市卫生局2012年政府信息公开工作年度报告"], ["一、概述"], ["2012年，我局…"]], kind="html")
    parsed = parse_layout(layout, "old.html")
    assert parsed.format_version == "pre2019"
    assert parsed.year == 2012
    assert parsed.cells == {}
    assert parsed.findings == []


def test_table4_printed_one_group_per_row() -> None:
    t4 = [["", "结果维持", "结果纠正", "其他结果", "尚未审结", "总计"],
          ["行政复议", "2", "0", "0", "1", "3"],
          ["行政诉讼（未经复议直接起诉）", "", "", "", "", ""],
          ["行政诉讼（复议后起诉）", "0", "1", "0", "0", "1"]]
    cells = map_layout(report(t4=t4)).cells
    assert cells["t4.review.pending"] == 1 and cells["t4.review.total"] == 3
    assert cells["t4.litigation_direct.upheld"] is None
    assert cells["t4.litigation_after_review.corrected"] == 1


def test_parsing_is_fast_enough_for_whole_archives() -> None:
    import time

    layout = report()
    parse_layout(layout, "warm.html")
    started = time.perf_counter()
    for _ in range(100):
        parse_layout(layout, "x.html")
    # ≥ 200 reports/s on an idle core; the bound leaves room for a busy test machine.
    assert time.perf_counter() - started < 5.0


# --- columns and groups located by their printed headers -------------------------------------------

APPLICANTS = ["natural_person", "commercial_enterprise", "research_institution", "social_welfare_org",
              "legal_services_org", "other_org"]
APPLICANT_LABELS = {"natural_person": "自然人", "commercial_enterprise": "商业企业",
                    "research_institution": "科研机构", "social_welfare_org": "社会公益组织",
                    "legal_services_org": "法律服务机构", "other_org": "其他"}
# Each applicant column gets its own figure in 本年新收, so a shifted column shows at once.
NEW_RECEIVED = {"natural_person": 3, "commercial_enterprise": 4, "research_institution": 5,
                "social_welfare_org": 6, "legal_services_org": 7, "other_org": 8}


def t3_with_columns(printed: list[str], extra_value: str = "9") -> list[list[str]]:
    """Table 3 (header and rows) printed with the applicant columns `printed` (keys, or a label the
    template lacks), 总计 last; 本年新收 carries NEW_RECEIVED, every other row zeros."""
    children = [APPLICANT_LABELS.get(c, c) for c in printed if c != "natural_person"]
    header = [["（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）", "", "", "申请人情况"],
              ["", "", "", "自然人", "法人或其他组织"] + [""] * (len(children) - 1) + ["总计"],
              ["", "", ""] + ["", *children, ""]]
    rows = []
    for key, label in T3_LABELS_2021:
        values = [NEW_RECEIVED.get(c, int(extra_value)) if key == "new_received" else 0 for c in printed]
        rows.append(label + [str(v) for v in values] + [str(sum(values))])
    return header + rows


def report_with_t3(t3: list[list[str]]) -> Layout:
    lines = report().lines
    start = lines.index(T3_HEADER[0])
    end = lines.index(["四、政府信息公开行政复议、行政诉讼情况"])
    return Layout(lines=lines[:start] + t3 + lines[end:], kind="html")


def test_applicant_columns_in_another_order_are_read_by_their_headers() -> None:
    printed = ["natural_person", "research_institution", "commercial_enterprise", "social_welfare_org",
               "other_org", "legal_services_org"]
    mapped = map_layout(report_with_t3(t3_with_columns(printed)))
    assert {c: mapped.cells[f"t3.new_received.{c}"] for c in APPLICANTS} == NEW_RECEIVED
    assert mapped.cells["t3.new_received.total"] == sum(NEW_RECEIVED.values())
    assert any("按表头读取" in w for w in mapped.warnings)


def test_a_missing_applicant_column_stays_blank_and_the_others_do_not_shift() -> None:
    printed = [c for c in APPLICANTS if c != "research_institution"]
    mapped = map_layout(report_with_t3(t3_with_columns(printed)))
    cells = mapped.cells
    assert cells["t3.new_received.research_institution"] is None
    assert mapped.provenance["t3.new_received.research_institution"] == "blank"
    assert cells["t3.new_received.social_welfare_org"] == 6
    assert cells["t3.new_received.other_org"] == 8
    assert cells["t3.carried_forward.natural_person"] == 0
    assert any("未印出科研机构列" in w for w in mapped.warnings)


def test_an_extra_applicant_column_is_ignored_with_a_warning() -> None:
    printed = APPLICANTS[:5] + ["个体工商户", "other_org"]
    mapped = map_layout(report_with_t3(t3_with_columns(printed, extra_value="9")))
    cells = mapped.cells
    assert {c: cells[f"t3.new_received.{c}"] for c in APPLICANTS} == NEW_RECEIVED
    assert cells["t3.new_received.total"] == sum(NEW_RECEIVED.values()) + 9
    assert any("个体工商户" in w and "不属于模板" in w for w in mapped.warnings)


def test_template_order_breaks_the_tie_when_a_header_label_was_lost() -> None:
    t3 = t3_with_columns(APPLICANTS)
    t3[2] = [c if c != "科研机构" else "" for c in t3[2]]  # the label did not survive extraction
    mapped = map_layout(report_with_t3(t3))
    assert {c: mapped.cells[f"t3.new_received.{c}"] for c in APPLICANTS} == NEW_RECEIVED


T4_REORDERED = [
    ["行政诉讼", "", "", "", "", "", "", "", "", "", "行政复议"],
    ["复议后起诉", "", "", "", "", "未经复议直接起诉", "", "", "", "", "结果维持", "结果纠正", "其他结果", "尚未审结", "总计"],
    ["结果维持", "结果纠正", "其他结果", "尚未审结", "总计", "结果维持", "结果纠正", "其他结果", "尚未审结", "总计"],
    # after review 1 0 0 0 1 | direct 0 2 0 0 2 | review 3 0 0 1 4
    ["1", "0", "0", "0", "1", "0", "2", "0", "0", "2", "3", "0", "0", "1", "4"],
]


def test_reordered_table4_groups_are_read_by_their_headers() -> None:
    mapped = map_layout(report(t4=T4_REORDERED))
    cells = mapped.cells
    row = lambda g: [cells[f"t4.{g}.{c}"] for c in ("upheld", "corrected", "other", "pending", "total")]  # noqa: E731
    assert row("review") == [3, 0, 0, 1, 4]
    assert row("litigation_direct") == [0, 2, 0, 0, 2]
    assert row("litigation_after_review") == [1, 0, 0, 0, 1]
    assert any("表四各组或各列的印出顺序与模板不同" in w for w in mapped.warnings)


def test_table4_columns_in_another_order() -> None:
    t4 = [list(T4_HEADER[0]),
          ["尚未审结", "结果维持", "结果纠正", "其他结果", "总计", "未经复议直接起诉", "", "", "", "", "复议后起诉"],
          ["", "", "", "", "", "尚未审结", "结果维持", "结果纠正", "其他结果", "总计",
           "尚未审结", "结果维持", "结果纠正", "其他结果", "总计"],
          ["2", "1", "0", "0", "3", "0", "0", "0", "0", "0", "1", "0", "0", "0", "1"]]
    cells = map_layout(report(t4=t4)).cells
    assert (cells["t4.review.pending"], cells["t4.review.upheld"], cells["t4.review.total"]) == (2, 1, 3)
    assert cells["t4.litigation_after_review.pending"] == 1


def test_undivided_litigation_group_stays_blank() -> None:
    t4 = [["行政复议", "", "", "", "", "行政诉讼"],
          ["结果维持", "结果纠正", "其他结果", "尚未审结", "总计", "结果维持", "结果纠正", "其他结果", "尚未审结", "总计"],
          ["1", "0", "0", "0", "1", "2", "0", "0", "0", "2"]]
    mapped = map_layout(report(t4=t4))
    assert mapped.cells["t4.review.total"] == 1
    assert mapped.cells["t4.litigation_direct.total"] is None
    assert mapped.cells["t4.litigation_after_review.upheld"] is None
    assert any("行政诉讼未分为未经复议直接起诉和复议后起诉" in w for w in mapped.warnings)


# --- units, ambiguous figures -------------------------------------------------------------------

def test_money_under_a_yuan_header_is_stored_in_wan_yuan() -> None:
    t2 = [list(line) for line in T2_2021]
    t2[-2] = ["信息内容", "本年收费金额（单位：元）"]
    t2[-1] = ["行政事业性收费", "36500"]
    mapped = map_layout(report(t2=t2))
    assert mapped.cells["t2.fees.amount"] == 3.65
    assert any("（元，按表头所注单位）换算为" in w for w in mapped.warnings)


def test_a_caption_states_the_unit_for_the_2019_procurement_amount() -> None:
    t2 = [["二、主动公开政府信息情况"], ["（单位：千元）"],
          ["信息内容", "本年新制作数量", "本年新公开数量", "对外公开总数量"], ["规章", "0", "0", "0"],
          ["规范性文件", "1", "1", "4"],
          ["信息内容", "采购项目数量", "采购总金额"], ["政府集中采购", "3", "1250"]]
    mapped = map_layout(report(t2=t2), version="2019")
    assert mapped.cells["t2.procurement.amount"] == 125
    assert mapped.cells["t2.procurement.items"] == 3


def test_a_figure_with_a_space_inside_is_blank_with_a_warning() -> None:
    t3 = t3_lines()
    t3[0] = T3_LABELS_2021[0][1] + ["1 2", "0", "0", "0", "0", "0", "3"]
    mapped = map_layout(report(t3=t3))
    assert mapped.cells["t3.new_received.natural_person"] is None
    assert mapped.cells["t3.new_received.total"] == 3
    assert any("“1 2”有歧义" in w for w in mapped.warnings)


# --- provenance, mixed templates ----------------------------------------------------------------

def test_provenance_marks_inferred_printed_and_blank_cells() -> None:
    t3 = t3_lines()
    t3[12] = ["", "（四）无法提供", "1.本机关不掌握相关政府信息", "1", "0", "0", "0", "0", "1"]
    parsed = parse_layout(report(t3=t3), "inferred.html")
    provenance = parsed.provenance
    inferred = {k: v for k, v in provenance.items() if v.startswith("inferred")}
    assert inferred and all(k.startswith("t3.unable.not_held.") for k in inferred)
    assert provenance["t3.unable.not_held.natural_person"] == "printed"
    assert provenance["t3.new_received.total"] == "printed"
    assert provenance["t2.coercion.decisions"] == "printed"  # printed as a dash
    assert parsed.to_json()["provenance"] == provenance
    no_t4 = parse_layout(report(t4=[]), "no-t4.html")
    assert no_t4.provenance["t4.review.total"] == "blank"


def test_a_2019_row_inside_a_2021_table_is_kept_and_warned() -> None:
    labels = [(k, v) for k, v in T3_LABELS_2021 if not k.startswith("other_handling.")]
    at = [k for k, _ in labels].index("total_processed")
    t3 = t3_lines(labels)
    t3.insert(at, ["", "（六）其他处理", "2", "0", "0", "0", "0", "0", "2"])
    t3[[k for k, _ in labels].index("new_received")] = T3_LABELS_2021[0][1] + ["5", "0", "0", "0", "0", "0", "5"]
    t3[at + 1] = ["", "（七）总计", "5", "0", "0", "0", "0", "0", "5"]
    parsed = parse_layout(report(t3=t3), "mixed.html")
    assert parsed.format_version == "2021"
    assert parsed.cells["t3.other_handling.natural_person"] == 2
    assert parsed.cells["t3.other_handling.no_correction.natural_person"] is None
    assert parsed.cells["t3.granted.natural_person"] == 2
    assert any("2021版表格中出现2019版模板的行" in w for w in parsed.warnings)
    # The kept row takes part in the sums: 2 granted + 1 not held + 2 other = 5 processed.
    assert not [f for f in parsed.findings if f["rule"] == "t3.outcomes_sum"]


def test_a_2019_table2_with_2021_tables_3_and_4() -> None:
    t2 = [["二、主动公开政府信息情况"],
          ["信息内容", "本年新制作数量", "本年新公开数量", "对外公开总数量"], ["规章", "1", "1", "6"],
          ["规范性文件", "2", "2", "9"],
          ["信息内容", "上一年项目数量", "本年增/减", "处理决定数量"], ["行政许可", "12", "-1", "340"]]
    parsed = parse_layout(report(t2=t2), "mixed-t2.html")
    cells = parsed.cells
    assert parsed.format_version == "2021"
    assert (cells["t2.regulations.made"], cells["t2.regulations.total_public"]) == (1, 6)
    assert cells["t2.licensing.change"] == -1
    assert cells["t2.regulations.issued"] is None
    assert_t3_consistent(cells)
    assert any("表二使用2019版模板，表三、表四使用2021版模板" in w for w in parsed.warnings)


def test_a_header_label_misread_in_its_place_is_that_column() -> None:
    """OCR read 科研机构 as 机构: it stands where the one unnamed template column belongs."""
    t3 = t3_with_columns(APPLICANTS)
    t3[2] = [c if c != "科研机构" else "机构" for c in t3[2]]
    mapped = map_layout(report_with_t3(t3))
    assert {c: mapped.cells[f"t3.new_received.{c}"] for c in APPLICANTS} == NEW_RECEIVED
    assert any("表三表头“机构”读作“科研机构”" in w for w in mapped.warnings)


def test_a_misprinted_header_label_is_matched_by_edit_distance() -> None:
    printed = ["natural_person", "social_welfare_org", "commercial_enterprise", "research_institution",
               "legal_services_org", "other_org"]
    t3 = t3_with_columns(printed)
    t3[2] = [c if c != "社会公益组织" else "社会公易组织" for c in t3[2]]
    mapped = map_layout(report_with_t3(t3))
    assert {c: mapped.cells[f"t3.new_received.{c}"] for c in APPLICANTS} == NEW_RECEIVED
    assert any("表三表头“社会公易组织”按模糊匹配读作“社会公益组织”" in w for w in mapped.warnings)
