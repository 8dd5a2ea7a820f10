"""The deployment examples under deploy/ call real `nianbao` commands with flags that exist.

Docker and systemd are not run here: the compose file is loaded as YAML and the unit files as INI,
every `nianbao` command line in them is parsed by the CLI's own argument parser, and each subcommand's
`--help` is run to check the flags it is given.
"""

from __future__ import annotations

import configparser
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from nianbao.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
_SHELL_OPERATORS = {";", "&&", "||", "|", "(", ")", "&"}


def _placeholders(text: str) -> str:
    """Shell and systemd substitutions replaced by plain words, so the line splits as it would run."""
    text = re.sub(r"\${1,2}\([^)]*\)", "w1", text)  # $(hostname), $$(dirname "$$@")
    text = re.sub(r"\${1,2}\{?[A-Za-z_@0-9]+\}?", "VALUE", text)  # $VAR, ${VAR}, $$1, "$$@"
    return text.replace("%i", "w1")


def _nianbao_calls(script: str) -> list[list[str]]:
    """The argument lists of every `nianbao` call in a shell line or script."""
    lexer = shlex.shlex(_placeholders(script), posix=True, punctuation_chars=";&|()")
    lexer.whitespace_split = True
    calls, current = [], None
    for token in lexer:
        if token in _SHELL_OPERATORS:
            current = None
        elif current is None and " " in token.strip():  # the script of `sh -c '...'`
            calls += _nianbao_calls(token)
        elif current is not None:
            current.append(token)
        elif token == "nianbao" or token.endswith("/nianbao"):
            current = []
            calls.append(current)
    return calls


def _compose() -> dict:
    return yaml.safe_load((DEPLOY / "docker-compose.yml").read_text(encoding="utf-8"))


def _compose_calls() -> dict[str, list[list[str]]]:
    calls = {}
    for name, service in _compose()["services"].items():
        if service.get("image") != "nianbao":
            continue
        entrypoint, command = service.get("entrypoint"), service.get("command") or []
        if entrypoint == ["sh", "-c"]:
            calls[name] = _nianbao_calls(command[0])
        else:
            calls[name] = [[_placeholders(arg) for arg in command]]
    return calls


def _unit_calls() -> dict[str, list[list[str]]]:
    calls = {}
    for path in sorted((DEPLOY / "systemd").glob("*.service")):
        unit = configparser.ConfigParser(strict=False, interpolation=None)
        unit.optionxform = str
        unit.read(path, encoding="utf-8")
        found = []
        for key in ("ExecStart", "ExecStartPost"):
            line = unit["Service"].get(key)
            if line:
                found += _nianbao_calls(line.replace("$$", "$"))
        calls[path.name] = found
    return calls


def _check(argv: list[str]) -> tuple[str, ...]:
    """Parse argv as `nianbao` would (exits on an unknown flag); returns the subcommand path."""
    try:
        build_parser().parse_args(argv)
    except SystemExit as exc:
        pytest.fail(f"nianbao {' '.join(argv)}: rejected by the CLI ({exc})")
    return tuple(argv[:2]) if argv[0] == "catalog" else (argv[0],)


def _flags_in_help(calls: list[list[str]]) -> None:
    by_command: dict[tuple[str, ...], set[str]] = {}
    for argv in calls:
        by_command.setdefault(_check(argv), set()).update(a.split("=")[0] for a in argv if a.startswith("-"))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for command, flags in by_command.items():
        result = subprocess.run([sys.executable, "-m", "nianbao.cli", *command, "--help"], cwd=ROOT, env=env,
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        for flag in flags:
            assert re.search(rf"(^|[\s,\[]){re.escape(flag)}\b", result.stdout), f"{command}: {flag} not in --help"


def test_compose_runs_redis_seed_workers_merge_and_datasette() -> None:
    services = _compose()["services"]
    assert services["redis"]["command"][0] == "redis-server"
    calls = _compose_calls()
    assert calls["seed"][0][0] == "seed"
    worker = calls["worker"][0]
    assert worker[0] == "worker"
    assert worker[worker.index("--redis") + 1] == "redis://redis:6379/0"
    assert services["worker"]["deploy"]["replicas"] >= 2
    assert services["worker"]["depends_on"]["seed"]["condition"] == "service_completed_successfully"
    assert [c[:2] for c in calls["merge"]] == [["catalog", "merge"], ["parse", "--data"]]
    assert calls["datasette"][0][0] == "serve"
    _flags_in_help([c for found in calls.values() for c in found])
    # the image it builds is the project's own set-up
    for name, service in services.items():
        if service.get("image") == "nianbao":
            assert (ROOT / "deploy" / Path(service["build"]["dockerfile"]).name).is_file(), name
    assert "scripts/setup.sh" in (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    assert (ROOT / "scripts" / "setup.sh").is_file()


def test_systemd_units_run_workers_merge_and_serve() -> None:
    calls = _unit_calls()
    assert calls["nianbao-worker@.service"][0][:1] == ["worker"]
    assert "w1" in calls["nianbao-worker@.service"][0]  # the instance name is the worker id
    assert [c[:2] for c in calls["nianbao-merge.service"]] == [["catalog", "merge"], ["parse", "--data"]]
    assert calls["nianbao-serve.service"][0][0] == "serve"
    timer = configparser.ConfigParser(strict=False, interpolation=None)
    timer.read(DEPLOY / "systemd" / "nianbao-merge.timer", encoding="utf-8")
    assert timer["Timer"].get("OnUnitActiveSec")
    _flags_in_help([c for found in calls.values() for c in found])
