"""Conversions through LibreOffice headless (generation time only): DOCX → PDF, DOCX → DOC."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
from pathlib import Path

_memo: dict[tuple[str, str], bytes] = {}


def soffice_binary() -> str:
    """The LibreOffice executable, or a clear error when it is not installed."""
    for name in ("soffice", "libreoffice"):
        path = shutil.which(name)
        if path:
            return path
    raise RuntimeError("LibreOffice (soffice) is required to generate PDF/DOC sample documents and was not found")


def convert(data: bytes, source_ext: str, target: str, timeout: float = 180) -> bytes:
    """Convert document bytes with `soffice --convert-to target`; results are memoised per process."""
    key = (hashlib.sha256(data).hexdigest(), target)
    if key in _memo:
        return _memo[key]
    with tempfile.TemporaryDirectory(prefix="nianbao-soffice-") as tmp:
        tmp_path = Path(tmp)
        source = tmp_path / f"report.{source_ext}"
        source.write_bytes(data)
        # a private profile lets several conversions run at once without fighting over the lock
        profile = (tmp_path / "profile").as_uri()
        cmd = [
            soffice_binary(),
            f"-env:UserInstallation={profile}",
            "--headless",
            "--norestore",
            "--convert-to",
            target,
            "--outdir",
            str(tmp_path / "out"),
            str(source),
        ]
        proc = subprocess.run(cmd, capture_output=True, timeout=timeout, check=False)
        produced = list((tmp_path / "out").glob("report.*"))
        if proc.returncode != 0 or not produced:
            raise RuntimeError(
                f"soffice --convert-to {target} failed (exit {proc.returncode}): {proc.stderr.decode(errors='replace')[-400:]}"
            )
        result = produced[0].read_bytes()
    _memo[key] = result
    return result
