#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# status/tests/with_page.sh STATUS_PAGE AGENT COMMAND...: a database of its own with fixture.sql's
# data, vigil-status-page over it on a free port, then COMMAND with $STATUS_PAGE_URL set to the
# page's address (the browser test and the API's schemathesis run). Needs $DATABASE_URL
# (scripts/services env).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PAGE="$1" AGENT="$2"
shift 2
[[ -n "${DATABASE_URL:-}" ]] || { echo "with_page: DATABASE_URL is not set (eval \"\$(scripts/services env)\")" >&2; exit 1; }
DB="vigil_browser_$$_$RANDOM"
URL=$(python3 -c 'import re,sys; print(re.sub(r"(//[^/]+/)[^?]*", lambda m: m.group(1) + sys.argv[2], sys.argv[1], count=1))' "$DATABASE_URL" "$DB")
LOG="$(mktemp)"
PID=""
cleanup() {
  [[ -n "$PID" ]] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
  psql "$DATABASE_URL" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
  rm -f "$LOG"
}
trap cleanup EXIT
psql "$DATABASE_URL" -qc "CREATE DATABASE $DB" >/dev/null
"$AGENT" migrate --database-url "$URL" >/dev/null
psql "$URL" -v ON_ERROR_STOP=1 -qf "$HERE/fixture.sql" >/dev/null
"$PAGE" --database-url "$URL" --listen 127.0.0.1:0 --title "Vigil test" > "$LOG" 2>&1 &
PID=$!
BASE=""
for _ in $(seq 100); do  # 10 s at most
  BASE=$(sed -n 's|^vigil-status-page: serving \(http://[^ ]*\)/$|\1|p' "$LOG")
  [[ -n "$BASE" ]] && break
  kill -0 "$PID" 2>/dev/null || { cat "$LOG" >&2; echo "with_page: the status page stopped" >&2; exit 1; }
  sleep 0.1
done
[[ -n "$BASE" ]] || { cat "$LOG" >&2; echo "with_page: the status page did not start within 10 s" >&2; exit 1; }
STATUS_PAGE_URL="$BASE" "$@"
