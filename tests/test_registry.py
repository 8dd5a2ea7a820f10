"""The portal registry: validation with line numbers, private addresses, the real portals.csv."""

import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from crawler.registry import FAMILY_VALUES, LEVELS, RegistryFileError, is_private_host, load_registry

ROOT = Path(__file__).resolve().parent.parent

HEADER = "id,agency,url,region,level,render,allow_private,notes\n"


def write(tmp_path, text, name="portals.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_bad_rows_are_reported_with_their_line_and_skipped(tmp_path):
    path = write(tmp_path, HEADER + "\n".join([
        "good,哈尔滨市卫生健康委员会,https://wsjkw.harbin.gov.cn/,230100,市,,,",   # line 2
        "nourl,南岗区卫生健康局,,230103,县,,,",                                  # line 3
        "ftp,某局,ftp://files.example.gov.cn/,,,,,",                             # line 4
        "good,重复,https://www.example.gov.cn/,,,,,",                            # line 5
        "local,本机,http://127.0.0.1:8000/,,,,,",                                # line 6
        "sample,样例,http://127.0.0.1:8000/,,,,true,",                           # line 7
        "badrender,某局,https://www.example.gov.cn/,,,flash,,",                  # line 8
        ",无编号,https://www.example.gov.cn/,,,,,",                              # line 9
    ]) + "\n")
    registry = load_registry(path)
    assert [p.id for p in registry.portals] == ["good", "sample"]
    assert registry.portals[1].allow_private is True
    errors = {e.line: e.message for e in registry.errors}
    assert set(errors) == {3, 4, 5, 6, 8, 9}
    assert "missing url" in errors[3]
    assert "scheme 'ftp'" in errors[4]
    assert "duplicate id 'good'" in errors[5] and "line 2" in errors[5]
    assert "allow_private" in errors[6]
    assert "render" in errors[8]
    assert "missing id" in errors[9]
    assert all(str(e).startswith(f"{path}:{e.line}: ") for e in registry.errors)


def test_every_kind_of_bad_row_is_named_and_skipped(tmp_path):
    path = write(tmp_path, HEADER.strip() + ",family\n" + "\n".join([
        "ok,南平市人民政府,https://www.np.gov.cn/,350700,市,,,,gkmlpt",          # line 2
        "Bad Id,某局,https://a.gov.cn/,,,,,,",                                # line 3
        "nohost,某局,https:///xxgk/,,,,,,",                                   # line 4
        "region5,某局,https://b.gov.cn/,35070,市,,,,",                        # line 5
        "regionmix,某局,https://c.gov.cn/,3507x0,市,,,,",                     # line 6
        "prefix,某局,https://d.gov.cn/,990100,市,,,,",                        # line 7
        "provcity,某省,https://e.gov.cn/,350000,市,,,,",                      # line 8
        "cityprov,某市,https://f.gov.cn/,350700,省,,,,",                      # line 9
        "national,某部,https://g.gov.cn/,350000,国务院部门,,,,",               # line 10
        "countywide,某县,https://h.gov.cn/,350000,县,,,,",                    # line 11
        "badlevel,某局,https://i.gov.cn/,,地级,,,,",                          # line 12
        "badfamily,某局,https://j.gov.cn/,,,,,,wordpress",                   # line 13
        "again,南平市人民政府,https://www.np.gov.cn/,350700,市,,,,",          # line 14
        "named,某县,https://k.gov.cn/,南平,县,,,,",                           # line 15
        "toomany,某局,https://l.gov.cn/,,,,,,,extra",                        # line 16
    ]) + "\n")
    registry = load_registry(path)
    assert [p.id for p in registry.portals] == ["ok", "named"]
    assert registry.portals[0].family == "gkmlpt"
    assert registry.portals[0].as_row()["family"] == "gkmlpt"
    assert registry.portals[1].region == "南平"  # a place name is kept as given
    errors = {e.line: e.message for e in registry.errors}
    assert set(errors) == {3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 16}
    assert "bad id 'Bad Id'" in errors[3]
    assert "has no host" in errors[4]
    assert "6-digit" in errors[5] and "6-digit" in errors[6]
    assert "names no province" in errors[7]
    assert "not a prefecture's code" in errors[8]
    assert "not a province's code" in errors[9]
    assert "国务院部门" in errors[10]
    assert "too wide" in errors[11]
    assert "unknown level '地级'" in errors[12]
    assert "unknown family 'wordpress'" in errors[13] and "gkmlpt" in errors[13]
    assert "same agency and url as line 2" in errors[14]
    assert "more fields" in errors[16]


def test_the_known_values_are_documented_in_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for value in [v for v in FAMILY_VALUES + LEVELS if v]:
        assert f"`{value}`" in readme, value


def test_only_selects_portals_and_names_unknown_ids(tmp_path):
    path = write(tmp_path, HEADER + "a,甲,https://a.gov.cn/,,,,,\nb,乙,https://b.gov.cn/,,,,,\n")
    selected, unknown = load_registry(path).select("b, nosuch")
    assert [p.id for p in selected] == ["b"]
    assert unknown == ["nosuch"]


def test_unusable_files_raise_naming_the_file(tmp_path):
    with pytest.raises(RegistryFileError, match="no such registry file"):
        load_registry(tmp_path / "missing.csv")
    with pytest.raises(RegistryFileError, match=r"header\.csv:1: .*url"):
        load_registry(write(tmp_path, "id,agency\na,甲\n", "header.csv"))


def test_private_hosts():
    for host in ("127.0.0.1", "localhost", "10.1.2.3", "192.168.0.9", "::1", "169.254.1.1", "[::1]"):
        assert is_private_host(host), host
    for host in ("wsjkw.harbin.gov.cn", "8.8.8.8", "www.gov.cn"):
        assert not is_private_host(host), host


def test_the_real_registry_is_valid_and_covers_the_seeds_and_every_province():
    registry = load_registry(ROOT / "portals.csv")
    assert registry.errors == []
    agencies = {p.agency for p in registry.portals}
    # the bodies of the seed reports, named as their reports title them
    for seed_body in ("南岗区卫生健康局", "硚口区卫健局", "鹤岗市卫健委", "海阳市卫生健康局", "哈尔滨市卫生健康委员会"):
        assert seed_body in agencies, seed_body
    provinces = [p for p in registry.portals if p.level == "省"]
    assert len(provinces) == 31
    assert {p.region[:2] for p in provinces} == set(PREFECTURES)
    assert len(registry.portals) >= 350
    assert not any(p.allow_private for p in registry.portals)


# Prefecture-level divisions (地级市, 地区, 自治州, 盟) per province, GB/T 2260 as of 2023: the floor
# of city governments the registry must hold for each province (0 for the four municipalities).
PREFECTURES = {
    "11": 0, "12": 0, "13": 11, "14": 11, "15": 12, "21": 14, "22": 9, "23": 13, "31": 0, "32": 13,
    "33": 11, "34": 16, "35": 9, "36": 11, "37": 16, "41": 17, "42": 13, "43": 14, "44": 21, "45": 14,
    "46": 4, "50": 0, "51": 21, "52": 9, "53": 16, "54": 7, "61": 10, "62": 14, "63": 8, "64": 5, "65": 14,
}

# The State Council's 组成部门 (less 国防部 and 国家安全部, which publish no disclosure reports).
MINISTRIES = (
    "外交部", "国家发展和改革委员会", "教育部", "科学技术部", "工业和信息化部", "国家民族事务委员会", "公安部",
    "民政部", "司法部", "财政部", "人力资源和社会保障部", "自然资源部", "生态环境部", "住房和城乡建设部",
    "交通运输部", "水利部", "农业农村部", "商务部", "文化和旅游部", "国家卫生健康委员会", "退役军人事务部",
    "应急管理部", "中国人民银行", "审计署",
)


def test_the_real_registry_has_every_prefecture_government_once():
    registry = load_registry(ROOT / "portals.csv")
    governments = [p for p in registry.portals
                   if p.level == "市" and p.agency.endswith(("人民政府", "行政公署"))]
    assert sum(PREFECTURES.values()) == 333
    per_province = Counter(p.region[:2] for p in governments)
    for prefix, floor in PREFECTURES.items():
        assert per_province[prefix] >= floor, (prefix, per_province[prefix], floor)
    regions = Counter(p.region for p in governments)
    assert [r for r, n in regions.items() if n > 1] == []  # one government per prefecture
    assert all(p.region.isdigit() and len(p.region) == 6 for p in governments)


def test_the_real_registry_has_the_state_council_departments():
    registry = load_registry(ROOT / "portals.csv")
    departments = [p for p in registry.portals if p.level == "国务院部门"]
    names = " ".join(p.agency for p in departments)
    for ministry in MINISTRIES:
        assert ministry in names, ministry
    assert len(departments) >= 40
    assert all(p.region in ("", "100000") for p in departments)


def test_the_real_registry_has_no_duplicate_body_and_marks_unverified_urls():
    registry = load_registry(ROOT / "portals.csv")
    pairs = Counter((p.url, p.agency) for p in registry.portals)
    assert [pair for pair, n in pairs.items() if n > 1] == []
    # every row says where its URL comes from, or that it is unverified
    for portal in registry.portals:
        assert portal.notes, portal.id


def test_a_crawl_with_an_unusable_registry_fails_naming_it(tmp_path):
    missing = tmp_path / "missing.csv"
    result = subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", "portals", "-a", f"portals={missing}",
         "-s", f"DATA_DIR={tmp_path / 'data'}", "-s", "LOG_LEVEL=ERROR"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode != 0
    assert f"{missing}: no such registry file" in result.stderr
