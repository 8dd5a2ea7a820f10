"""`nianbao demo`: the whole system on the bundled sample portals, ending in Datasette."""

from __future__ import annotations

from pathlib import Path

# The demo crawls fast: the sample portals are local, so politeness delays only cost time.
DEMO_SETTINGS = {
    "DOWNLOAD_DELAY": 0,
    "AUTOTHROTTLE_ENABLED": False,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 8,
    "LOG_LEVEL": "WARNING",
}


def demo(root: Path, port: int = 8001, serve_after: bool = True) -> int:
    """Start the sample portals, refresh (crawl + parse) into `root`, then serve the catalog."""
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

    return serve(root, port=port)
