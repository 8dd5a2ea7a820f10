#!/usr/bin/env bash
# Set up a machine for nianbao: Debian packages, then a virtualenv with the project installed.
# Idempotent; run from anywhere. Environment: VENV (default .venv in the repo), SKIP_APT=1.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
venv=${VENV:-$here/.venv}

# chromium: JavaScript-rendered portals and browser tests (Playwright cannot download its own here)
# antiword: legacy .doc reports; libreoffice-writer-nogui: .doc/.wps tables antiword cannot read
# fonts-noto-cjk: rendering Chinese in screenshots and sample scans
apt_packages=(chromium antiword libreoffice-writer-nogui fonts-noto-cjk)
apt_packages+=(redis-server)  # distributed mode: the shared frontier (and its tests)
if [ "${SKIP_APT:-0}" != 1 ]; then
  missing=()
  for p in "${apt_packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  if [ ${#missing[@]} -gt 0 ]; then
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
fi

if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
# Reinstall only when the dependencies or the interpreter changed (the project itself is an editable
# install, so code changes need none); FORCE_INSTALL=1 reinstalls anyway.
stamp="$venv/.nianbao-install-stamp"
want=$( { sha256sum "$here/pyproject.toml"; "$venv/bin/python" --version; } 2>&1 | sha256sum | cut -d' ' -f1)
if [ "${FORCE_INSTALL:-0}" = 1 ] || [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  "$venv/bin/pip" install -q --upgrade pip
  "$venv/bin/pip" install -q -e "$here[test]"
  # distributed mode; --no-deps because pywb pins redis 2.10.6, which scrapy-redis's calls work with
  "$venv/bin/pip" install -q --no-deps "scrapy-redis==0.9.1"
  echo "$want" > "$stamp"
  echo "nianbao is set up in $venv"
else
  echo "nianbao is set up in $venv (dependencies unchanged: nothing reinstalled; FORCE_INSTALL=1 reinstalls)"
fi
