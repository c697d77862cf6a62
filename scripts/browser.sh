#!/usr/bin/env bash
# What the server's browser test needs: Debian's Chromium and, under
# target/tools/browser, playwright-core (drives it) and pngjs (reads the
# screenshot), installed by scripts/tools.sh at pinned versions. Prints the
# node_modules folder for SAFELANE_TEST_BROWSER_MODULES. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/tools.sh browser
echo "$(pwd)/target/tools/browser/node_modules"
