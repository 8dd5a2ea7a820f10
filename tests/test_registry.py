"""The portal registry: validation with line numbers, private addresses, the real portals.csv."""

import subprocess
import sys
from pathlib import Path

import pytest

from crawler.registry import RegistryFileError, is_private_host, load_registry

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
    assert len(registry.portals) >= 35
    assert not any(p.allow_private for p in registry.portals)


def test_a_crawl_with_an_unusable_registry_fails_naming_it(tmp_path):
    missing = tmp_path / "missing.csv"
    result = subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", "portals", "-a", f"portals={missing}",
         "-s", f"DATA_DIR={tmp_path / 'data'}", "-s", "LOG_LEVEL=ERROR"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode != 0
    assert f"{missing}: no such registry file" in result.stderr
