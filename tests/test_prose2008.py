"""Pre-2019 reports: the headline figures they state in prose, on the sample portals' reports (against
their truth) and on sentences shaped like real 2008–2018 reports (made-up figures)."""

from __future__ import annotations

from pathlib import Path

import pytest

from nianbao.parse import parse_bytes
from nianbao.parse.prose2008 import extract_prose_figures
from nianbao.sample_portals.truth import SITE_DIR, load_truth
from nianbao.template import cell_labels

PRE2019 = [t for t in load_truth() if t["format_version"] == "pre2019"]


def _document(truth: dict) -> Path:
    url = next(u for u in truth["urls"] if u["role"] in ("report_page", "attachment"))
    return SITE_DIR / url["host"] / url["path"].lstrip("/")


@pytest.mark.parametrize("truth", PRE2019, ids=[t["id"] for t in PRE2019])
def test_sample_pre2019_reports_yield_their_prose_figures(truth):
    assert truth["cells"]["p08.requests.received"] >= 0 and "p08.proactive.items" in truth["cells"]
    report = parse_bytes(_document(truth).read_bytes(), truth["id"])
    assert report.format_version == "pre2019"
    assert report.cells == truth["cells"]


def test_figures_and_outcomes_in_real_report_phrasing():
    # The sentence shapes of 2010–2016 reports (see tests/fixtures/README.md), with made-up figures.
    figures = extract_prose_figures([
        "一、概述\n本机关2013年共制作政府信息812条，其中主动公开信息1,204条，不予公开信息20条。",
        "三、依申请公开情况\n全年共受理依申请公开政府信息申请37件，其中同意公开25件，同意部分公开4件，"
        "不予公开3件，信息不存在5件。",
        "四、收费情况\n收取检索、复制、邮寄费用共计0.012万元。",
        "五、行政复议和行政诉讼情况\n因政府信息公开申请提起行政复议2件，提起行政诉讼1件。",
    ])
    assert figures == {
        "p08.proactive.items": 1204, "p08.requests.received": 37, "p08.requests.granted": 25,
        "p08.requests.partially_granted": 4, "p08.requests.withheld": 3, "p08.reviews.total": 2,
        "p08.litigation.total": 1, "p08.fees.yuan": 120,
    }


def test_statements_of_none_give_zero_and_silence_gives_nothing():
    assert extract_prose_figures([
        "我局2010年度未收到政府信息公开申请。",
        "2010年，未产生针对我局政府信息公开的行政复议与行政诉讼。",
        "2010年我局依申请提供政府信息未收取费用。",
    ]) == {"p08.requests.received": 0, "p08.reviews.total": 0, "p08.litigation.total": 0, "p08.fees.yuan": 0}
    assert extract_prose_figures(["本机关认真贯彻《条例》，政府信息公开工作运行正常。"]) == {}
    # A report from 2019 on reads its tables, not its prose.
    assert all(not k.startswith("p08.") for t in load_truth() if t["format_version"] != "pre2019"
               for k in t["cells"])


def test_prose_keys_are_documented_in_the_template():
    labels = cell_labels()
    for key in ("p08.proactive.items", "p08.requests.received", "p08.reviews.total", "p08.litigation.total",
                "p08.fees.yuan"):
        assert labels[key]


REAL = Path(__file__).resolve().parents[2] / "shared" / "real" / "pages"


@pytest.mark.skipif(not (REAL / "r09_huli_district_2018.txt").is_file(),
                    reason="../shared/real is not beside this repository")
def test_real_2018_report_states_its_proactive_items():
    report = parse_bytes((REAL / "r09_huli_district_2018.txt").read_bytes(), "r09")
    assert report.format_version == "pre2019"
    # "共制作政府信息…条，其中主动公开信息1027条" in the page's overview.
    assert report.cells.get("p08.proactive.items") == 1027
