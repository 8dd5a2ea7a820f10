"""Section texts without page furniture: footers, breadcrumbs, toolbars, index blocks and table headings
are dropped; the report's own sentences stay — on the sample portals' reports and on real pages."""

from __future__ import annotations

from pathlib import Path

import pytest

from nianbao.parse import parse_bytes
from nianbao.parse.furniture import is_furniture, strip_furniture
from nianbao.sample_portals.truth import SITE_DIR, load_truth

REAL = Path(__file__).resolve().parents[2] / "shared" / "real" / "pages"
FURNITURE_MARKS = ("网站标识码", "ICP备", "版权所有", "技术支持", "当前位置", "字体", "索引号", "索 引 号", "分享至",
                   "第二十条第（", "浏览次数")


@pytest.mark.parametrize("line", [
    "主办：某市卫生健康委员会 网站标识码：2301000099 黑ICP备00000000号",
    "版权所有：某市人民政府 技术支持：某市信息中心 联系电话：0000-1234567",
    "当前位置：首页 > 政府信息公开 > 政府信息公开年报",
    "首页 > 信息公开 > 年度报告",
    "发布日期: 2021-01-29  来源:某镇 字体:  打印   分享至:",
    "【字体：大 中 小】【打印】【关闭】",
    "• 索 引 号:XX00000-0000-2019-00001",
    "第二十条第（一）项",
    "信息内容 本年制发件数 本年废止件数 现行有效件数",
    "申请人情况",
])
def test_furniture_lines(line):
    assert is_furniture(line)


@pytest.mark.parametrize("line", [
    "全年通过门户网站主动公开政府信息750条，及时更新政府信息公开指南。",
    "本年度未收取信息处理费。",
    "某市卫生健康委员会",
    "2024年1月25日",
    "一是政策解读形式还不够丰富；二是信息发布的及时性有待提高。",
])
def test_report_sentences_stay(line):
    assert not is_furniture(line)


def test_strip_furniture_keeps_the_text_and_drops_empty_sections():
    sections = {"other": "本年度未收取信息处理费。\n某市卫健委\n2020年1月23日\n版权所有：某市卫健委 技术支持：某中心",
                "proactive": "第二十条第（一）项\n第二十条第（五）项"}
    assert strip_furniture(sections) == {"other": "本年度未收取信息处理费。\n某市卫健委\n2020年1月23日"}


def _documents():
    for truth in load_truth():
        for url in truth["urls"]:
            path = SITE_DIR / url["host"] / url["path"].lstrip("/")
            # Attachments served by a download endpoint (downfile.jsp?...) have no static file to read.
            if url["role"] in ("report_page", "attachment") and path.is_file():
                yield truth, path
                break


@pytest.mark.parametrize("truth,path", list(_documents()), ids=[t["id"] for t, _ in _documents()])
def test_sample_report_sections_have_no_furniture(truth, path):
    report = parse_bytes(path.read_bytes(), truth["id"])
    for name, text in report.sections.items():
        assert not any(mark in text for mark in FURNITURE_MARKS), (name, text[-200:])
    for name, text in truth["sections"].items():
        if text and name in ("overview", "problems"):
            assert text[:20] in report.sections.get(name, ""), name


@pytest.mark.skipif(not REAL.is_dir(), reason="../shared/real is not beside this repository")
@pytest.mark.parametrize("path", sorted(REAL.glob("*.txt")) if REAL.is_dir() else [], ids=lambda p: p.stem)
def test_real_page_sections_have_no_furniture(path):
    report = parse_bytes(path.read_bytes(), path.name)
    assert report.sections, path.name
    for name, text in report.sections.items():
        assert not any(mark in text for mark in FURNITURE_MARKS), (path.name, name, text[:300])
