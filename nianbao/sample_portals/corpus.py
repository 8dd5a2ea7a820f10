"""The sample report corpus: a deterministic list of annual reports for the sample portals.

Figures come from the five seed reports (bundled in seed_truth.json) and from a seeded
generator whose output satisfies the template's consistency rules, except where a report
is planned to break one. Each report is a dict in the ground-truth shape (agency, year,
format_version, cells, failing_rules) plus id, portal_id, family, title, published,
sections, format, variant and expected.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from nianbao.sample_portals.cells import (
    APPLICANT_COLUMNS,
    OUTCOME_ROWS,
    T3_COLUMNS,
    T4_COLUMNS,
    T4_GROUPS,
    carry_link_holds,
    cell_keys,
    failing_rules,
    t3_rows,
)

SEED = 20240131
SEED_TRUTH_FILE = Path(__file__).with_name("seed_truth.json")

PORTAL_IDS = {
    "trs": "sample-trs",
    "hanweb": "sample-hanweb",
    "jsapp": "sample-jsapp",
    "gbk": "sample-gbk",
    "blocked": "sample-blocked",
    "robotsnav": "sample-robotsnav",
    "linkedjs": "sample-linkedjs",
    "emptylist": "sample-emptylist",
    "nocolumn": "sample-nocolumn",
}

# agency -> (short slug used in ids and paths, a local topic that makes its texts searchable)
AGENCIES = {
    "哈尔滨市卫生健康委员会": ("hrbwjw", "冰雪季传染病防控"),
    "南岗区卫生健康局": ("ngqwjj", "老旧小区家庭医生签约服务"),
    "海阳市卫生健康局": ("hywjj", "海洋渔业从业人员健康体检"),
    "硚口区卫健局": ("qkqwjj", "汉正街片区社区卫生服务"),
    "鹤岗市卫健委": ("hgwjw", "采煤沉陷区群众就医保障"),
    "道里区卫生健康局": ("dlqwjj", "中央大街商圈食品安全巡查"),
    "平房区卫生健康局": ("pfqwjj", "航空产业园区职业健康监护"),
    "香坊区卫生健康局": ("xfqwjj", "老工业区社区康复服务"),
}


@dataclass
class Plan:
    """What one report of the corpus is: where it is published, how, and what it must show."""

    family: str
    agency: str
    year: int
    format: str = "html"  # html | pdf | docx | doc | pdf-scan | ofd
    seed: str | None = None  # seed truth id whose figures the report carries
    breaks: tuple[str, ...] = ()  # single-report rules deliberately broken
    version: str | None = None  # template actually used, when it is not the year's own
    variant: str | None = None  # None | "corrected" | "draft"
    carry_break: bool = False  # carried_over deliberately differs from last year's carried_forward
    blanks: bool = False  # zero cells of table 4 and the fees cell printed empty (null in the truth)
    null_text: str = "—"  # how the document prints an empty cell: a dash or nothing


def _plans() -> list[Plan]:
    hrb, ngq, hy, qk, hg, dl, pf, xf = AGENCIES
    plans: list[Plan] = []
    # (a) TRS: a municipal health commission, 2014-2024, and one district report it hosts.
    plans += [Plan("trs", hrb, y) for y in range(2014, 2019)]
    plans += [
        Plan("trs", hrb, 2019),
        Plan("trs", hrb, 2020, format="doc"),
        Plan("trs", hrb, 2021, breaks=("t3.balance",)),
        Plan("trs", hrb, 2021, variant="corrected"),
        Plan("trs", hrb, 2022, format="docx"),
        Plan("trs", hrb, 2023, seed="004_27e045282ad3fd6c", null_text=""),
        Plan("trs", hrb, 2024, format="pdf"),
        Plan("trs", hrb, 2024, variant="draft"),
        Plan("trs", ngq, 2022, format="pdf", seed="000_3af6345a2c5a8086"),
    ]
    # (b) Hanweb: a county-level city's health bureau, 2012-2024.
    plans += [Plan("hanweb", hy, y) for y in range(2012, 2019)]
    plans += [
        Plan("hanweb", hy, 2019, breaks=("t3.row_total",)),
        Plan("hanweb", hy, 2020, blanks=True, null_text=""),
        Plan("hanweb", hy, 2021, version="2019"),
        Plan("hanweb", hy, 2022, format="pdf-scan"),
        Plan("hanweb", hy, 2023, format="pdf", seed="003_931eb61caecda62d"),
        Plan("hanweb", hy, 2024, format="ofd"),
    ]
    # (c) JavaScript-built list: a district health bureau, 2017-2024.
    plans += [
        Plan("jsapp", qk, 2017),
        Plan("jsapp", qk, 2018),
        Plan("jsapp", qk, 2019),
        Plan("jsapp", qk, 2020, format="pdf", carry_break=True),
        Plan("jsapp", qk, 2021, seed="001_da36df42beafad44"),
        Plan("jsapp", qk, 2022, blanks=True),
        Plan("jsapp", qk, 2023, format="docx"),
        Plan("jsapp", qk, 2024, breaks=("t4.group_total",)),
    ]
    # (d) an old GBK site that stopped after 2020.
    plans += [Plan("gbk", hg, y) for y in range(2008, 2019)]
    plans += [
        Plan("gbk", hg, 2019, breaks=("t3.outcomes_sum",)),
        Plan("gbk", hg, 2020, format="doc", seed="002_8489967cbdc1945e"),
    ]
    # discovery cases (after the others, so their figures leave the earlier reports' unchanged):
    # the column behind ordinary navigation while the 年报 link is disallowed by robots.txt,
    # a list built by a linked script, an empty list container only the browser fills.
    plans += [Plan("robotsnav", dl, y) for y in range(2019, 2024)]
    plans += [Plan("linkedjs", pf, y) for y in range(2020, 2025)]
    plans += [Plan("emptylist", xf, y) for y in range(2018, 2023)]
    return plans


@cache
def seed_truths() -> dict[str, dict]:
    """The five hand-read seed reports' truths, keyed by seed id."""
    return json.loads(SEED_TRUTH_FILE.read_text(encoding="utf-8"))


def template_version(year: int) -> str:
    """The template a report on this statistical year should use."""
    if year < 2019:
        return "pre2019"
    return "2019" if year < 2021 else "2021"


def _zero_vector() -> dict[str, int]:
    return dict.fromkeys(T3_COLUMNS, 0)


def _t2_cells(version: str, rng: random.Random) -> dict[str, float | int]:
    cells: dict[str, float | int] = {}
    if version == "2021":
        in_force = rng.randint(2, 30)
        cells.update(
            {
                "t2.regulations.issued": 0,
                "t2.regulations.repealed": 0,
                "t2.regulations.in_force": 0,
                "t2.normative_documents.issued": rng.randint(0, 4),
                "t2.normative_documents.repealed": rng.randint(0, 3),
                "t2.normative_documents.in_force": in_force,
                "t2.licensing.decisions": rng.randint(120, 18000),
                "t2.penalty.decisions": rng.randint(0, 420),
                "t2.coercion.decisions": rng.randint(0, 12),
                "t2.fees.amount": round(rng.randint(0, 50000) / 100, 2),
            }
        )
    else:
        for group in ("regulations", "normative_documents"):
            made = rng.randint(0, 5) if group == "normative_documents" else 0
            cells[f"t2.{group}.made"] = made
            cells[f"t2.{group}.published"] = made
            cells[f"t2.{group}.total_public"] = made + rng.randint(0, 25)
        for group in ("licensing", "other_services", "penalty", "coercion"):
            cells[f"t2.{group}.prior_items"] = rng.randint(0, 160)
            cells[f"t2.{group}.change"] = rng.randint(-5, 6)
            cells[f"t2.{group}.decisions"] = rng.randint(0, 900)
        cells["t2.fees.prior_items"] = rng.randint(0, 4)
        cells["t2.fees.change"] = rng.randint(-1, 1)
        cells["t2.procurement.items"] = rng.randint(0, 30)
        cells["t2.procurement.amount"] = round(rng.randint(0, 900000) / 100, 2)
    return cells


def _t3_cells(
    version: str,
    rng: random.Random,
    carried_over: dict[str, int],
    carried_forward: dict[str, int] | None,
) -> dict[str, int]:
    """Table 3 that balances: outcomes sum to total_processed, totals sum their rows."""
    active = {"natural_person"} | {c for c in APPLICANT_COLUMNS[1:] if rng.random() < 0.35}
    rows = OUTCOME_ROWS[version]
    weights = {row: 1 for row in rows}
    weights.update({"granted": 9, "partially_granted": 4, "unable.not_held": 6, "not_processed.complaint": 2})
    cells: dict[str, int] = {}
    for col in APPLICANT_COLUMNS:
        co = carried_over.get(col, 0)
        if col == "natural_person":
            new = rng.randint(6, 60)
        elif col in active or co:
            new = rng.randint(1, 6)
        else:
            new = 0
        if carried_forward is not None:
            cf = carried_forward.get(col, 0)
            new = max(new, cf - co)
        else:
            cf = rng.randint(0, min(3, new + co)) if col == "natural_person" else 0
        processed = new + co - cf
        counts = dict.fromkeys(rows, 0)
        if col == "natural_person" and processed >= 2:
            # keep at least one granted and one partially granted: the planned rule breaks move these
            counts["granted"] += 1
            counts["partially_granted"] += 1
            left = processed - 2
        else:
            left = processed
        for _ in range(left):
            counts[rng.choices(rows, weights=[weights[r] for r in rows])[0]] += 1
        cells[f"t3.new_received.{col}"] = new
        cells[f"t3.carried_over.{col}"] = co
        for row, n in counts.items():
            cells[f"t3.{row}.{col}"] = n
        cells[f"t3.total_processed.{col}"] = processed
        cells[f"t3.carried_forward.{col}"] = cf
    for row in t3_rows(version):
        cells[f"t3.{row}.total"] = sum(cells[f"t3.{row}.{c}"] for c in APPLICANT_COLUMNS)
    return cells


def _t4_cells(rng: random.Random) -> dict[str, int]:
    cells = {}
    for group in T4_GROUPS:
        parts = [rng.choice((0, 0, 0, 1, 2)) for _ in T4_COLUMNS[:-1]]
        cells.update({f"t4.{group}.{c}": n for c, n in zip(T4_COLUMNS, parts, strict=False)})
        cells[f"t4.{group}.total"] = sum(parts)
    return cells


def _break(cells: dict, rule: str) -> None:
    """Change the cells so that exactly `rule` fails (the other single-report rules still hold)."""
    if rule == "t3.balance":
        cells["t3.carried_forward.natural_person"] += 1
        cells["t3.carried_forward.total"] += 1
    elif rule == "t3.outcomes_sum":
        cells["t3.granted.natural_person"] -= 1
        cells["t3.granted.total"] -= 1
    elif rule == "t3.row_total":
        cells["t3.granted.natural_person"] += 1
        cells["t3.partially_granted.natural_person"] -= 1
    elif rule == "t4.group_total":
        cells["t4.review.total"] += 1
    else:
        raise ValueError(f"no way to break rule {rule!r}")


def _unbreak(cells: dict, rule: str) -> None:
    """Undo what _break did for `rule`."""
    if rule == "t3.balance":
        cells["t3.carried_forward.natural_person"] -= 1
        cells["t3.carried_forward.total"] -= 1
    elif rule == "t3.outcomes_sum":
        cells["t3.granted.natural_person"] += 1
        cells["t3.granted.total"] += 1
    elif rule == "t3.row_total":
        cells["t3.granted.natural_person"] -= 1
        cells["t3.partially_granted.natural_person"] += 1
    elif rule == "t4.group_total":
        cells["t4.review.total"] -= 1


def generate_cells(
    version: str,
    rng: random.Random,
    carried_over: dict[str, int] | None = None,
    carried_forward: dict[str, int] | None = None,
    breaks: tuple[str, ...] = (),
    blanks: bool = False,
) -> dict[str, float | int | None]:
    """A full cell map of a template version that passes every rule except those in `breaks`."""
    cells: dict[str, float | int | None] = {}
    cells.update(_t2_cells(version, rng))
    cells.update(_t3_cells(version, rng, carried_over or _zero_vector(), carried_forward))
    cells.update(_t4_cells(rng))
    for rule in breaks:
        _break(cells, rule)
    if blanks:
        for key in [k for k in cells if k.startswith("t4.") and cells[k] == 0]:
            cells[key] = None
        if "t2.fees.amount" in cells:
            cells["t2.fees.amount"] = None
    ordered = {key: cells[key] for key in cell_keys(version)}
    if set(ordered) != set(cells):
        raise AssertionError(f"generated keys differ from template {version}")
    return ordered


_YEAR_PHRASES = {
    2008: "《政府信息公开条例》正式施行",
    2009: "政府信息公开目录编制",
    2010: "依申请公开受理点建设",
    2011: "“三公”经费公开",
    2012: "财政预决算公开",
    2013: "重点领域信息公开",
    2014: "权力清单公开",
    2015: "“互联网+政务服务”",
    2016: "政务公开标准化",
    2017: "政务新媒体建设",
    2018: "基层政务公开标准化规范化试点",
    2019: "新修订《条例》贯彻落实",
    2020: "新冠肺炎疫情防控信息发布",
    2021: "常态化疫情防控信息公开",
    2022: "优化营商环境政策解读",
    2023: "政策文件库建设",
    2024: "政务公开“五公开”全流程",
}


def _sections(plan: Plan, version: str, cells: dict, figures: dict) -> dict[str, str]:
    _, topic = AGENCIES[plan.agency]
    y = plan.year
    phrase = _YEAR_PHRASES[y]
    published_items = figures["proactive"]
    sections = {
        "overview": (
            f"{y}年，{plan.agency}坚持以公开为常态、不公开为例外，围绕{topic}和{phrase}等重点工作，"
            f"扎实推进政府信息公开工作，不断提升政务公开质量。"
        ),
        "proactive": (
            f"全年通过门户网站主动公开政府信息{published_items}条，其中围绕{topic}发布工作动态和政策解读，"
            f"及时更新政府信息公开指南和政府信息公开目录。"
        ),
        "requests": "",
        "reviews": "",
        "problems": (
            "一是政策解读形式还不够丰富；二是信息发布的及时性有待提高。下一步将加强业务培训，"
            f"完善信息发布审核机制，持续做好{topic}相关信息公开。"
        ),
        "other": "",
    }
    if version == "pre2019":
        received = figures["requests"]
        sections["requests"] = (
            f"全年共受理政府信息公开申请{received}件，均在规定期限内予以答复。"
        )
        sections["reviews"] = "本年度未发生因政府信息公开工作引起的行政复议和行政诉讼。"
        sections["other"] = "本年度未收取政府信息公开检索、复制、邮寄等费用。"
    else:
        total = cells.get("t3.new_received.total") or 0
        sections["requests"] = f"本年度共收到政府信息公开申请{total}件，依法依规予以答复。"
        sections["reviews"] = "因政府信息公开工作被申请行政复议、提起行政诉讼情况见下表。"
        fee = figures.get("fee", False)
        sections["other"] = (
            "本年度按照《政府信息公开信息处理费管理办法》收取信息处理费200元。"
            if fee
            else "本年度未收取信息处理费。"
        )
    if plan.variant == "corrected":
        sections["other"] += "本报告为更正版，对原报告第三部分统计数据中的差错予以更正。"
    if plan.variant == "draft":
        sections["overview"] = "（征求意见稿，未正式发布）" + sections["overview"]
    return sections


def _title(plan: Plan) -> str:
    title = f"{plan.agency}{plan.year}年政府信息公开工作年度报告"
    if plan.year < 2012 and plan.family == "gbk":
        title = f"{plan.agency}{plan.year}年度政府信息公开工作年度报告"
    if plan.variant == "corrected":
        title += "（更正版）"
    if plan.variant == "draft":
        title += "（征求意见稿）"
    return title


def _published(plan: Plan, rng: random.Random) -> str:
    if plan.variant == "corrected":
        return f"{plan.year + 1}-03-15"
    if plan.variant == "draft":
        return f"{plan.year}-12-28"
    if plan.year < 2019:
        return f"{plan.year + 1}-03-{rng.randint(10, 31):02d}"
    return f"{plan.year + 1}-01-{rng.randint(12, 30):02d}"


def _report_id(plan: Plan) -> str:
    rid = f"{plan.family}-{AGENCIES[plan.agency][0]}-{plan.year}"
    return f"{rid}-{plan.variant}" if plan.variant else rid


def build_corpus() -> list[dict]:
    """Every report of the sample portals, in publication order per portal (deterministic)."""
    rng = random.Random(SEED)
    plans = _plans()
    seeds = seed_truths()
    # figures of the years a seed fixes, so the year before can hand on the right carried_forward
    seeded = {(p.agency, p.year): seeds[p.seed]["cells"] for p in plans if p.seed}
    forward: dict[tuple[str, int], dict[str, int]] = {}  # (agency, year) -> carried_forward by column
    originals: dict[tuple[str, int], Plan] = {}
    reports = []
    for plan in plans:
        version = plan.version or template_version(plan.year)
        previous = forward.get((plan.agency, plan.year - 1))
        if plan.seed:
            seed = seeds[plan.seed]
            cells = dict(seed["cells"])
            version = seed["format_version"]
            expected_rules = list(seed["failing_rules"])
        elif version == "pre2019":
            cells = {}
            expected_rules = []
        elif plan.variant == "corrected":
            # the re-issue prints the original's figures with its error put right
            original = next(r for r in reversed(reports) if r["agency"] == plan.agency and r["year"] == plan.year)
            cells = dict(original["cells"])
            for rule in originals[(plan.agency, plan.year)].breaks:
                _unbreak(cells, rule)
            expected_rules = []
        else:
            carried_over = dict(previous or _zero_vector())
            if plan.carry_break:
                carried_over["natural_person"] += 2
                carried_over["total"] += 2
            nxt = seeded.get((plan.agency, plan.year + 1))
            target = {c: nxt[f"t3.carried_over.{c}"] or 0 for c in T3_COLUMNS} if nxt else None
            if plan.variant == "draft":
                target = None
            cells = generate_cells(version, rng, carried_over, target, breaks=plan.breaks, blanks=plan.blanks)
            expected_rules = list(plan.breaks)
        rules = failing_rules(cells, version) if cells else []
        if sorted(rules) != sorted(expected_rules):
            raise AssertionError(f"{_report_id(plan)}: fails {rules}, planned {expected_rules}")
        if cells and previous is not None:
            if not carry_link_holds({f"t3.carried_forward.{c}": v for c, v in previous.items()}, cells):
                rules.append("t3.carry_link")
        if version != "pre2019" and version != template_version(plan.year):
            rules.append("format.year")
        if cells and plan.variant != "draft":
            forward[(plan.agency, plan.year)] = {c: cells[f"t3.carried_forward.{c}"] or 0 for c in T3_COLUMNS}
        if plan.variant is None:
            originals[(plan.agency, plan.year)] = plan
        figures = {"proactive": rng.randint(80, 1600), "requests": rng.randint(0, 40)}
        if plan.year >= 2022:
            figures["fee"] = rng.random() < 0.3
        report = {
            "id": _report_id(plan),
            "portal_id": PORTAL_IDS[plan.family],
            "family": plan.family,
            "agency": plan.agency,
            "year": plan.year,
            "format_version": version,
            "cells": cells,
            "failing_rules": rules,
            "title": _title(plan),
            "published": _published(plan, rng),
            "sections": _sections(plan, version, cells, figures),
            "figures": figures,
            "null_text": plan.null_text,
            "format": plan.format,
            "variant": plan.variant,
            "expected": plan.variant != "draft",
        }
        reports.append(report)
    return reports
