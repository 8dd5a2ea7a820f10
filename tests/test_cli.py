"""The `nianbao` command's surface: exit codes, error messages, settings loading, the refresh lock."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from nianbao.config import PROJECT_ROOT
from nianbao.lock import data_dir_lock

NIANBAO = [sys.executable, "-m", "nianbao.cli"]


def run(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(NIANBAO + args, cwd=cwd, capture_output=True, text=True, timeout=120,
                          env={**os.environ, **env})


def test_parse_missing_file_names_it_and_exits_2(tmp_path: Path) -> None:
    result = run(["parse", "no-such-report.pdf", "--json"], tmp_path)
    assert result.returncode == 2
    assert "no-such-report.pdf" in result.stderr


def test_refresh_missing_registry_exits_2(tmp_path: Path) -> None:
    result = run(["refresh", "--portals", "nowhere.csv", "--data", str(tmp_path / "d")], tmp_path)
    assert result.returncode == 2
    assert "nowhere.csv" in result.stderr


def test_unknown_export_format_is_bad_usage(tmp_path: Path) -> None:
    result = run(["export", "tarball", "out.tar"], tmp_path)
    assert result.returncode == 2


def test_settings_load_from_the_project_wherever_run(tmp_path: Path) -> None:
    # A stray settings.py in the working directory must not shadow the project's.
    (tmp_path / "settings.py").write_text("BOT_NAME = 'someone-else'\n")
    code = "from nianbao.config import project_settings; s = project_settings(); print(s['BOT_NAME'], s['ROBOTSTXT_OBEY'])"
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                            timeout=60)
    assert result.stdout.split() == ["nianbao", "True"], result.stderr


def test_refresh_refuses_to_overlap(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    registry = tmp_path / "portals.csv"
    registry.write_text("id,agency,url,allow_private\nx,某局,http://127.0.0.1:9/,true\n", encoding="utf-8")
    with data_dir_lock(data, "test"):
        result = run(["refresh", "--portals", str(registry), "--data", str(data)], tmp_path)
    assert result.returncode == 1
    assert "catalog.lock" in result.stderr and str(os.getpid()) in result.stderr


def test_project_root_holds_scrapy_cfg() -> None:
    assert (PROJECT_ROOT / "scrapy.cfg").is_file() and (PROJECT_ROOT / "settings.py").is_file()


def test_export_of_an_empty_archive_names_it_and_exits_2(tmp_path: Path) -> None:
    result = run(["export", "wacz", str(tmp_path / "out.wacz"), "--data", str(tmp_path / "empty")], tmp_path)
    assert result.returncode == 2
    assert str(tmp_path / "empty") in result.stderr and "Traceback" not in result.stderr
