"""A report from before the 2019 template: free text, figures inside sentences, no template tables."""

from __future__ import annotations

from html import escape


def render_pre2019(report: dict) -> str:
    """An HTML article fragment in the free-text style of the 2008–2018 reports.

    Under the old headings it prints the report's `sections` (fees under 四 are "other"), or plain
    sentences built from `figures` where a section is missing.
    """
    agency, year = report["agency"], report["year"]
    title = report.get("title") or f"{agency}{year}年政府信息公开工作年度报告"
    figures = report.get("figures") or {}
    proactive = figures.get("proactive", 120)
    requests = figures.get("requests", 3)
    sections = report.get("sections") or {}

    def section(key: str, default: str) -> list[str]:
        # the report's own text where it has one, each line a paragraph
        return (sections.get(key) or default).split("\n")

    paragraphs = [
        f"本报告根据《中华人民共和国政府信息公开条例》要求，由{agency}编制。全文包括概述，主动公开政府信息情况，"
        "依申请公开政府信息情况，政府信息公开的收费及减免情况，因政府信息公开申请行政复议、提起行政诉讼的情况，"
        f"政府信息公开工作存在的主要问题及改进情况等。本报告中所列数据的统计期限自{year}年1月1日起至{year}年12月31日止。",
        "一、概述",
        *section("overview", f"{year}年，我单位认真贯彻落实《中华人民共和国政府信息公开条例》，进一步完善工作机制，规范公开程序。"),
        "二、主动公开政府信息情况",
        *section("proactive", f"{year}年共主动公开政府信息{proactive}条，其中通过政府网站公开{proactive}条。"),
        "三、依申请公开政府信息情况",
        *section("requests", f"{year}年共受理政府信息公开申请{requests}件，均已按时答复。"),
        "四、政府信息公开的收费及减免情况",
        *section("other", "本年度未收取任何费用。"),
        "五、因政府信息公开申请行政复议、提起行政诉讼的情况",
        *section("reviews", "本年度未发生因政府信息公开申请行政复议、提起行政诉讼的情况。"),
        "六、政府信息公开工作存在的主要问题及改进情况",
        *section("problems", "公开内容有待进一步丰富，下一步将加强信息公开的及时性和规范性。"),
    ]
    body = "\n".join(f'<p style="text-indent:2em">{escape(p)}</p>' for p in paragraphs)
    return f'<div class="article-content">\n<h1 class="title">{escape(title)}</h1>\n{body}\n</div>'
