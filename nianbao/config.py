"""Where things are: the project root, the data directory and the Scrapy settings."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SETTINGS_FILE = PROJECT_ROOT / "settings.py"
SETTINGS_MODULE = "nianbao_project_settings"


def data_dir(explicit: str | os.PathLike | None = None) -> Path:
    """The data directory: CLI `--data`, else `NIANBAO_DATA_DIR`, else `./data`."""
    value = explicit or os.environ.get("NIANBAO_DATA_DIR") or "data"
    return Path(value).resolve()


def ensure_layout(root: Path) -> Path:
    """Create DATA_DIR's sub-directories (warc, indexes, jobs) and return root."""
    for sub in ("warc", "indexes", "jobs"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    return root


def load_settings_module():
    """Import this project's settings.py by path, under a name nothing else uses.

    A module called `settings` is easily shadowed by another on sys.path, and
    Scrapy only finds scrapy.cfg from the project directory; loading by path
    works wherever the CLI runs from.
    """
    if SETTINGS_MODULE in sys.modules:
        return sys.modules[SETTINGS_MODULE]
    spec = importlib.util.spec_from_file_location(SETTINGS_MODULE, SETTINGS_FILE)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot load Scrapy settings from {SETTINGS_FILE}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[SETTINGS_MODULE] = module
    spec.loader.exec_module(module)
    return module


def project_settings(overrides: dict | None = None):
    """Scrapy Settings from this project's settings.py, plus overrides (priority 'cmdline')."""
    from scrapy.settings import Settings

    if str(PROJECT_ROOT) not in sys.path:
        sys.path.insert(0, str(PROJECT_ROOT))
    settings = Settings()
    settings.setmodule(load_settings_module(), priority="project")
    if overrides:
        settings.setdict(overrides, priority="cmdline")
    return settings
