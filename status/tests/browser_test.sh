#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# status/tests/browser_test.sh SCREENSHOT_DIR (under with_page.sh): the Playwright script in
# Debian's Chromium. Needs chromium and browser/node_modules (scripts/install-deps).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
[[ -d "$HERE/browser/node_modules/playwright-core" ]] || { echo "browser_test: run scripts/install-deps (npm ci in status/tests/browser)" >&2; exit 1; }
command -v chromium >/dev/null || { echo "browser_test: chromium is not installed (scripts/install-deps)" >&2; exit 1; }
exec node "$HERE/browser/status_page_browser_test.mjs" "$STATUS_PAGE_URL" "$1"
