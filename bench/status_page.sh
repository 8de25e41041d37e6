#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# bench/status_page.sh [--quick]
#
# The status page over 100,000 sites (10,000 with --quick): site_state, 30 days of daily rollups
# and 7 days of hourly ones per site, made with SQL in a database of its own, then
# vigil-status-page serving it and 4 clients requesting, 400 times each kind: the overview (first
# pages, deep pages, a search, the down filter), a site's page, the list API and a site's API.
# Reports p50, p95 and p99 latency per kind (targets: pages p95 < 200 ms, API p95 < 100 ms) and,
# as the reference in the same run, the ratio to /healthz (the server's own floor: an answer
# with no query). The rollups' cost to pg_sink is measured by bench/pg_sink.sh (its rollups row).
# Appends its table and this command to bench/RESULTS.md. Needs the services up and a built tree.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
AGENT="$ROOT/build/bin/agent"
PAGE_BIN="$ROOT/build/bin/vigil-status-page"
SITES=100000
[[ "${1:-}" == "--quick" ]] && SITES=10000
eval "$("$ROOT/scripts/services" env)"
DB="bench_status_$(date +%s)"
URL=$(python3 -c 'import re,sys; print(re.sub(r"(//[^/]+/)[^?]*", lambda m: m.group(1) + sys.argv[2], sys.argv[1], count=1))' "$DATABASE_URL" "$DB")
WORK="$(mktemp -d /tmp/vigil-bench-status-XXXXXX)"
PID=""
cleanup() {
  [[ -n "$PID" ]] && kill "$PID" 2>/dev/null
  psql "$DATABASE_URL" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
say() { echo "bench: $*" >&2; }

psql "$DATABASE_URL" -qc "CREATE DATABASE $DB" >/dev/null
"$AGENT" migrate --database-url "$URL" >/dev/null
say "making $SITES sites: state, 30 days of daily and 7 days of hourly rollups (SQL)"
t0=$(date +%s.%N)
psql "$URL" -v ON_ERROR_STOP=1 -q -v sites="$SITES" <<'SQL'
SET synchronous_commit = off;
-- 2% down, 1% degraded; response times around 120 ms, a bad hour now and then.
INSERT INTO site_state (site, url, state, since, cause, last_timestamp, last_error, last_error_detail)
SELECT format('site-%s', lpad(i::text, 6, '0')), format('https://site-%s.example/', i),
       CASE WHEN i % 50 = 0 THEN 'down' WHEN i % 97 = 0 THEN 'degraded' ELSE 'up' END,
       now() - (i % 5000) * interval '1 minute',
       CASE WHEN i % 50 = 0 THEN 'timeout' WHEN i % 97 = 0 THEN 'slow' END, now(),
       CASE WHEN i % 50 = 0 THEN 'timeout' END, CASE WHEN i % 50 = 0 THEN 'no answer within 10s' END
  FROM generate_series(1, :sites) i;
INSERT INTO metrics_daily
SELECT format('site-%s', lpad(i::text, 6, '0')), date_trunc('day', now()) - d * interval '1 day', 1440,
       1440 - ((i * 7 + d * 13) % 11), 1440 * 120.0, 20, 2400,
       '{0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,100,600,500,200,30,8,2,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0}'
  FROM generate_series(1, :sites) i, generate_series(0, 29) d;
INSERT INTO metrics_hourly
SELECT format('site-%s', lpad(i::text, 6, '0')), date_trunc('hour', now()) - h * interval '1 hour', 60,
       60 - CASE WHEN (i + h) % 97 = 0 THEN 12 ELSE 0 END, 60 * 120.0, 20, 2400,
       '{0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,4,25,21,8,2,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0}'
  FROM generate_series(1, :sites) i, generate_series(0, 167) h;
INSERT INTO site_events (site, url, from_state, to_state, at, since, check_id, reason, cause)
SELECT format('site-%s', lpad(i::text, 6, '0')), 'https://x/', 'up', 'down', now() - k * interval '1 day',
       now() - (k + 1) * interval '1 day', format('e-%s-%s', i, k), 'timeout: no answer within 10s', 'timeout'
  FROM generate_series(1, :sites, 10) i, generate_series(1, 3) k;
VACUUM ANALYZE site_state, site_events, metrics_daily, metrics_hourly;
SQL
t1=$(date +%s.%N)
gen_s=$(python3 -c "print(f'{$t1-$t0:.0f}')")
sizes=$(psql "$URL" -Atc "SELECT (SELECT count(*) FROM metrics_daily) || ' daily rows (' || pg_size_pretty(pg_total_relation_size('metrics_daily')) || '), ' || (SELECT count(*) FROM metrics_hourly) || ' hourly rows (' || pg_size_pretty(pg_total_relation_size('metrics_hourly')) || ')'")
say "made in ${gen_s} s: $sizes"

"$PAGE_BIN" --database-url "$URL" --listen 127.0.0.1:0 --threads 4 > "$WORK/page.log" 2>&1 &
PID=$!
BASE=""
for _ in $(seq 100); do
  BASE=$(sed -n 's|^vigil-status-page: serving \(http://[^ ]*\)/$|\1|p' "$WORK/page.log")
  [[ -n "$BASE" ]] && break
  sleep 0.1
done
[[ -n "$BASE" ]] || { cat "$WORK/page.log" >&2; exit 1; }

say "requesting (4 clients, 400 requests of each kind)"
table=$(python3 - "$BASE" "$SITES" <<'PY'
import http.client, random, statistics, sys, time, urllib.parse
from concurrent.futures import ThreadPoolExecutor
base, sites = sys.argv[1], int(sys.argv[2])
host = urllib.parse.urlparse(base).netloc
rng = random.Random(1)
def name(): return f"site-{rng.randint(1, sites):06d}"
pages = sites // 50
kinds = {
  "/healthz (reference: no query)": lambda: "/healthz",
  "overview, first 10 pages": lambda: f"/?page={rng.randint(1, 10)}",
  "overview, any page": lambda: f"/?page={rng.randint(1, pages)}",
  "overview, search": lambda: f"/?q=site-0{rng.randint(0, 9999):04d}",
  "overview, down sites": lambda: f"/?state=down&page={rng.randint(1, max(1, sites // 50 // 50))}",
  "site page": lambda: f"/sites/{name()}",
  "API /api/sites": lambda: f"/api/sites?page={rng.randint(1, pages)}",
  "API /api/sites/{name}": lambda: f"/api/sites/{name()}",
}
local = __import__("threading").local()
def get(path):
    c = getattr(local, "c", None)
    if c is None:
        c = local.c = http.client.HTTPConnection(host, timeout=30)
    t = time.perf_counter()
    c.request("GET", path)
    r = c.getresponse()
    body = r.read()
    if r.status != 200:
        raise SystemExit(f"{path}: HTTP {r.status}: {body[:200]!r}")
    return (time.perf_counter() - t) * 1000
rows = []
with ThreadPoolExecutor(4) as pool:
    for kind, make in kinds.items():
        paths = [make() for _ in range(400)]
        list(pool.map(get, paths[:20]))  # warm the connections and caches
        ms = sorted(pool.map(get, paths))
        q = lambda p: ms[min(len(ms) - 1, int(p * len(ms)))]
        rows.append((kind, q(0.5), q(0.95), q(0.99)))
floor = rows[0][2]
for kind, p50, p95, p99 in rows:
    print(f"| {kind} | {p50:.1f} | {p95:.1f} | {p99:.1f} | {p95 / floor:.1f}x |")
PY
)
echo "$table" >&2
report="### status page: $SITES sites, 30 days of daily and 7 days of hourly rollups ($(date -u +%Y-%m-%d), $(nproc) cores, PostgreSQL 15, all on this machine)

Command: \`bench/status_page.sh${1:+ $1}\`

Data: $sizes, made with SQL in ${gen_s} s; 4 clients, 400 requests of each kind (keep-alive), vigil-status-page --threads 4.

| request | p50 ms | p95 ms | p99 ms | p95 / healthz p95 |
| --- | ---: | ---: | ---: | ---: |
$table

Targets: pages p95 < 200 ms, API p95 < 100 ms."
printf '\n%s\n' "$report" >> "$ROOT/bench/RESULTS.md"
echo "$report"
