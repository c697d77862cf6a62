#!/usr/bin/env bash
# Installs what the server's browser test needs, once: Debian's Chromium and,
# under target/tools/browser, playwright-core (drives it) and pngjs (reads
# the screenshot), at pinned versions from the npm registry. Prints the
# node_modules folder. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
PLAYWRIGHT=1.65.1
PNGJS=7.0.0
if ! command -v chromium >/dev/null; then
  echo "installing Chromium (Debian package chromium)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q chromium >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; }
fi
dir=target/tools/browser
stamp="$dir/.installed-$PLAYWRIGHT-$PNGJS"
if [ ! -f "$stamp" ]; then
  mkdir -p "$dir"
  npm install --silent --no-audit --no-fund --prefix "$dir" "playwright-core@$PLAYWRIGHT" "pngjs@$PNGJS" >&2
  touch "$stamp"
fi
echo "$(pwd)/$dir/node_modules"
