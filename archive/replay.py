"""`nianbao replay`: pywb over DATA_DIR, on localhost.

A pywb configuration is generated in a temporary directory with one collection, `nianbao`, whose
archives are DATA_DIR/warc and whose indexes are DATA_DIR/indexes (brought up to date first), so the
archive is replayed in place: `http://HOST:PORT/nianbao/URL` (latest) or `/nianbao/TIMESTAMP/URL`.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
from pathlib import Path

logger = logging.getLogger(__name__)

COLLECTION = "nianbao"


def write_replay_index(data_dir: Path, out_dir: Path) -> Path:
    """DATA_DIR's CDXJ indexes without the server-not-modified revisits, for pywb.

    pywb answers a revisit with the revisit's own HTTP headers and the original's payload; for a
    `304 Not Modified` revisit that is a 304 the browser cannot show. The unchanged document is the
    earlier capture's, so replay leaves those lines out (the archive and its indexes keep them).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    for index in sorted((data_dir / "indexes").glob("*.cdxj")):
        with open(index, encoding="utf-8") as src, open(out_dir / index.name, "w", encoding="utf-8") as dst:
            for line in src:
                if '"mime": "warc/revisit"' in line and '"status": "304"' in line:
                    continue
                dst.write(line)
    return out_dir


def pywb_config(data_dir: Path, index_dir: Path | None = None) -> str:
    """The pywb config.yaml text for DATA_DIR (JSON is valid YAML, and quotes every path safely)."""
    import json

    config = {
        "collections": {
            COLLECTION: {
                "archive_paths": str((data_dir / "warc").resolve()) + "/",
                "index_paths": str((index_dir or data_dir / "indexes").resolve()) + "/",
            }
        },
        # Pages are rewritten and shown directly, without pywb's top frame.
        "framed_replay": False,
        "enable_memento": True,
    }
    return json.dumps(config, indent=2)


def serve_replay(data_dir: str | Path, host: str = "127.0.0.1", port: int = 8080) -> int:
    """Serve DATA_DIR's archive with pywb until interrupted; returns the exit code."""
    # pywb serves with gevent, which must patch the standard library before anything uses sockets.
    from gevent.monkey import patch_all

    patch_all()
    from gevent.pywsgi import WSGIServer
    from pywb.apps.frontendapp import FrontEndApp

    from archive.cdxj import update_indexes
    from archive.warc import closed_warc_files, repair_open_files

    data_dir = Path(data_dir).resolve()
    if not (data_dir / "warc").is_dir():
        print(f"nianbao replay: {data_dir / 'warc'}: no WARC directory", file=sys.stderr)
        return 2
    if not closed_warc_files(data_dir / "warc"):
        repair_open_files(data_dir / "warc")  # a crawl killed before closing its only file
    update_indexes(data_dir)

    with tempfile.TemporaryDirectory(prefix="nianbao-replay-") as workdir:
        config_file = Path(workdir) / "config.yaml"
        index_dir = write_replay_index(data_dir, Path(workdir) / "indexes")
        config_file.write_text(pywb_config(data_dir, index_dir), encoding="utf-8")
        previous = os.getcwd()
        os.chdir(workdir)  # pywb resolves its templates/static/collections roots from here
        try:
            app = FrontEndApp(config_file=str(config_file))
            server = WSGIServer((host, port), app, log=None)
            server.start()
            print(f"replaying {data_dir} at http://{host}:{server.server_port}/{COLLECTION}/", flush=True)
            server.serve_forever()
        except KeyboardInterrupt:
            return 0
        except OSError as exc:
            print(f"nianbao replay: cannot listen on {host}:{port}: {exc}", file=sys.stderr)
            return 1
        finally:
            os.chdir(previous)
    return 0
