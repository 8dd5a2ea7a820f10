"""`nianbao demo`: the whole system on the bundled sample portals, ending in Datasette.

Everything the catalog's pages link to stays up while it is served: the sample portals (the reports'
original URLs) and the pywb replay server (their archived copies). Ctrl-C stops all of them.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

# The demo crawls fast: the sample portals are local, so politeness delays only cost time.
DEMO_SETTINGS = {
    "DOWNLOAD_DELAY": 0,
    "AUTOTHROTTLE_ENABLED": False,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 8,
    "LOG_LEVEL": "WARNING",
}
REPLAY_START_SECONDS = 60


def start_replay(root: Path, port: int) -> subprocess.Popen:
    """`nianbao replay` over root in a child process (log: root/replay.log); returns once it listens."""
    log_path = Path(root) / "replay.log"
    with log_path.open("w", encoding="utf-8") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "nianbao.cli", "replay", "--data", str(root), "--port", str(port)],
            stdout=log, stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + REPLAY_START_SECONDS
    while time.monotonic() < deadline and proc.poll() is None:
        if "replaying" in log_path.read_text(encoding="utf-8", errors="replace"):
            break
        time.sleep(0.2)
    return proc


def stop(proc: subprocess.Popen | None) -> None:
    """Stop a child process started here: SIGTERM, then SIGKILL after 10 s."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def demo(root: Path, port: int = 8001, serve_after: bool = True, replay_port: int = 8080) -> int:
    """Start the sample portals, refresh (crawl + parse) into `root`, then serve the catalog and replay."""
    from nianbao.refresh import refresh
    from nianbao.sample_portals.server import SamplePortals

    with SamplePortals() as portals:
        print(f"sample portals: {portals.registry}")
        for family, url in portals.base_urls.items():
            print(f"  {family:10} {url}")
        code = refresh(root, portals=str(portals.registry), settings=DEMO_SETTINGS)
        if code != 0 or not serve_after:
            return code
        from nianbao.serve import serve

        replay = start_replay(root, replay_port)
        if replay.poll() is None:
            os.environ["NIANBAO_REPLAY_URL"] = f"http://127.0.0.1:{replay_port}/nianbao"
            print(f"archived copies (pywb): http://127.0.0.1:{replay_port}/nianbao/")
        else:
            print(f"nianbao demo: the replay server did not start (exit {replay.returncode}); "
                  "archived-copy links will not answer", file=sys.stderr)
        print("Ctrl-C stops Datasette, the replay server and the sample portals.", flush=True)
        try:
            return serve(root, port=port)
        finally:
            stop(replay)
