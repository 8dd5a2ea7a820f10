#!/usr/bin/env bash
# Set up (Debian packages, virtualenv) and run the whole system on the bundled sample portals:
# sample portals on 127.0.0.1 → scrapy crawl portals → WARC archive → parser stage → Datasette.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
"$here/scripts/setup.sh"
exec "${VENV:-$here/.venv}/bin/nianbao" demo "$@"
