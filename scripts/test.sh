#!/usr/bin/env bash
# Set up (Debian packages, virtualenv) and run the linter and the whole test suite.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
"$here/scripts/setup.sh"
venv=${VENV:-$here/.venv}
cd "$here"
"$venv/bin/ruff" check .
exec "$venv/bin/pytest" -q -p no:cacheprovider "$@"
