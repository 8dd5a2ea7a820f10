"""Section texts without page furniture: what a portal prints around every page, not the report.

A report page carries the site's footer (主办…, 网站标识码…, …ICP备…号, 版权所有, 技术支持), its
breadcrumbs (当前位置：首页 > …), the article toolbar (字体：大 中 小, 打印, 分享至, 浏览次数), the
information-index block (索引号, 发文机关), and, inside the section texts, the headings of the tables
(第二十条第（一）项, 信息内容, 申请人情况 …) whose figures are in the cells. These lines are dropped
from the section texts; the report's own sentences, its 落款 (body and date) included, stay.
"""

from __future__ import annotations

import re
from functools import cache

_FOOTER = re.compile(
    r"网站标识码|ICP[备证]|公网安备|版权所有|技术支持[：:]|网站维护[：:]|主办单位?[：:]|承办单位?[：:]"
    r"|建议使用.{0,24}浏览器|最佳分辨率|网站地图|Copyright|©")
_BREADCRUMB = re.compile(r"^(?:当前位置|您现在的位置|您的位置|所在位置|现在位置)\s*[：:]|^首页\s*[>＞»›/]|\s[>＞»›]\s*首页")
_TOOLBAR = re.compile(
    r"^[【\[]?\s*字[体号]\s*[：:]|[【\[]\s*(?:打印|关闭|大|中|小)\s*[】\]]|打印本页|关闭窗口|分享[至到][：:]?\s*$"
    r"|扫一扫|浏览次数[：:]|访问量[：:]|阅读次数[：:]|^(?:上一篇|下一篇)[：:]|返回顶部")
_INDEX_BLOCK = re.compile(r"^[•·]?\s*(?:索\s*引\s*号|发文机关|发布机构|主题分类|成文日期|公文生成日期|备注/文号)\s*[：:]")
_TABLE_HEADING = re.compile(r"^第二十条第[（(][一二三四五六七八九十]+[）)]项$")


@cache
def _header_words() -> frozenset[str]:
    """Words printed only as table headings, from the template data."""
    words = {"信息内容", "总计", "项目", "计量单位", "本列数据的勾稽关系为"}
    try:
        from nianbao.template import load_template

        template = load_template()
        words.update(template.t3_header_fragments)
        words.update(template.t4_header_fragments)
        for version in ("2019", "2021"):
            words.update(template.raw["table2"][version]["columns"].values())
    except Exception:  # no template data: the fixed words above still apply
        pass
    return frozenset(re.sub(r"\s+", "", w) for w in words if w)


def is_furniture(line: str) -> bool:
    """True for a line of page furniture or a bare table heading (see module doc)."""
    text = line.strip().strip("•·").strip()
    if not text:
        return False
    if _FOOTER.search(text) or _BREADCRUMB.search(text) or _TOOLBAR.search(text) or _INDEX_BLOCK.search(text):
        return True
    if _TABLE_HEADING.match(text):
        return True
    words = [w for w in re.split(r"[\s|｜]+", text) if w]
    headers = _header_words()
    return bool(words) and all(re.sub(r"[（(].*?[）)]", "", w) in headers or w in headers for w in words)


def strip_furniture(sections: dict[str, str]) -> dict[str, str]:
    """sections with furniture lines removed; a section left empty is dropped."""
    out: dict[str, str] = {}
    for name, text in sections.items():
        kept = [line for line in (text or "").split("\n") if not is_furniture(line)]
        cleaned = "\n".join(kept).strip()
        if cleaned:
            out[name] = cleaned
    return out
