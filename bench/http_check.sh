#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# bench/http_check.sh [--quick]
#
# http_check against a local nginx serving a 10 KB page, side by side in one run with
#   - wrk -H 'Connection: close' (the ceiling: a new connection per request, as each check makes),
#   - prometheus-blackbox-exporter (Debian) probing the same page with a body regex,
#   - agent with http_check feeding stdout_sink into /dev/null or a file (a sink that discards).
# Scenarios: (a) peak rate, no interval pause (--once over many sites); (b) 10,000 sites every
# 1 s; (c) 100,000 sites every 60 s. Reports checks/s, CPU µs per check, RSS and lag p50/p99,
# and appends them with this command to bench/RESULTS.md.
# Needs: nginx-light wrk prometheus-blackbox-exporter (installed here if missing), a built agent.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
AGENT="${VIGIL_AGENT:-$ROOT/build/bin/agent}"
QUICK=0
[[ "${1:-}" == "--quick" ]] && QUICK=1
DURATION=10          # seconds per wrk / blackbox run
B_SECONDS=30         # scenario (b) run time
C_WARMUP=65          # scenario (c): one interval (the spread-out first round) and start-up
C_SECONDS=60         # scenario (c) measured window: a full interval
A_SITES=20000
C_SITES=100000
if (( QUICK )); then DURATION=3; B_SECONDS=8; C_WARMUP=10; C_SECONDS=15; A_SITES=5000; C_SITES=20000; fi
NGINX_PORT=18080
BLACKBOX_PORT=19115
WORK="$(mktemp -d /tmp/vigil-bench-XXXXXX)"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

for tool in nginx wrk prometheus-blackbox-exporter; do
  if ! command -v "$tool" >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx-light wrk \
      prometheus-blackbox-exporter >/dev/null
    break
  fi
done
[[ -x "$AGENT" ]] || { echo "build the agent first (cmake --build build)" >&2; exit 1; }

source "$ROOT/bench/common.sh"

# ---- nginx: a 10 KB page, one worker per core --------------------------------------------------
start_nginx "$NGINX_PORT"

# ---- wrk: the ceiling for a new connection per request -----------------------------------------
wrk_rate=$(wrk -t2 -c64 -d"${DURATION}s" -H 'Connection: close' "$PAGE" | awk '/Requests\/sec/ {print $2}')

# ---- blackbox_exporter, driven by wrk at its /probe endpoint -----------------------------------
cat > "$WORK/blackbox.yml" <<EOF
modules:
  http_regex:
    prober: http
    timeout: 5s
    http:
      fail_if_body_not_matches_regexp: ["Vigil bench"]
EOF
prometheus-blackbox-exporter --config.file="$WORK/blackbox.yml" \
  --web.listen-address="127.0.0.1:$BLACKBOX_PORT" --log.level=error >"$WORK/blackbox.log" 2>&1 &
BB=$!
PIDS+=("$BB")
for _ in $(seq 50); do curl -fsS -o /dev/null "http://127.0.0.1:$BLACKBOX_PORT/metrics" 2>/dev/null && break; sleep 0.1; done
PROBE="http://127.0.0.1:$BLACKBOX_PORT/probe?module=http_regex&target=$PAGE"
curl -fsS "$PROBE" | grep -q '^probe_success 1' || { echo "blackbox probe failed" >&2; exit 1; }
bb_cpu0=$(cpu_s "$BB")
bb_out=$(wrk -t1 -c32 -d"${DURATION}s" "$PROBE")
bb_cpu1=$(cpu_s "$BB")
bb_probes=$(echo "$bb_out" | awk '/requests in/ {print $1}')
bb_rate=$(echo "$bb_out" | awk '/Requests\/sec/ {print $2}')
bb_us=$(python3 -c "print(round(($bb_cpu1-$bb_cpu0)*1e6/$bb_probes, 1))")
bb_rss="$(rss_now_mib "$BB")/$(rss_mib "$BB")"
kill "$BB"

# ---- agent ---------------------------------------------------------------------------------------
sites_file() {  # sites_file N INTERVAL FILE
  python3 - "$1" "$2" "$PAGE" > "$3" <<'PY'
import json, sys
n, interval, url = int(sys.argv[1]), sys.argv[2], sys.argv[3]
print(json.dumps([{"name": f"site-{i}", "url": url, "regex": "Vigil bench"} for i in range(n)]))
PY
}
pipeline() {  # pipeline SITES_FILE INTERVAL CONCURRENCY OUT
  cat <<EOF
pipeline: bench
source:
  plugin: http_check
  sites_file: $1
  interval: $2
  timeout: 5s
  max_concurrency: $3
  batch_size: 2000
sinks:
  - plugin: stdout_sink
    path: $4
max_in_flight: 16
EOF
}
# Stats over a JSON-lines output: checks, ok share, lag p50/p99 (from the second interval on, so
# the spread-out first round does not count twice).
stats() {
  python3 - "$1" "$2" <<'PY'
import json, sys
path, skip_ms = sys.argv[1], float(sys.argv[2])
lags, ok, n, t0 = [], 0, 0, None
for line in open(path):
    r = json.loads(line)
    n += 1
    ok += r["ok"] is True
    lags.append(r["lag_ms"])
lags.sort()
pct = lambda p: lags[min(len(lags) - 1, int(p * len(lags)))] if lags else float("nan")
print(n, round(ok / max(n, 1) * 100, 2), round(pct(0.5), 2), round(pct(0.99), 2))
PY
}

# (a) peak: every site once, as fast as the engine goes, with as many checks in flight as wrk
# has connections (-c64): the same concurrency against the same server. Measured over the
# checking alone (from the first check's start to the last one's end, CPU read from /proc inside
# that window: bench/checking_window.py), as wrk's rate leaves out its own start and exit.
A_CONCURRENCY=64
sites_file "$A_SITES" 1h "$WORK/a.json"
pipeline "$WORK/a.json" 1h "$A_CONCURRENCY" "$WORK/a.jsonl" > "$WORK/a.yaml"
/usr/bin/time -f "%e %U %S %M" -o "$WORK/a0.time" "$AGENT" --check-config --pipeline "$WORK/a.yaml" >/dev/null 2>&1
read -r l_wall _ < "$WORK/a0.time"
read -r _ a_window a_rate a_us a_rss _ < <(python3 "$ROOT/bench/checking_window.py" "$WORK/a.jsonl" -- \
  "$AGENT" --once --log-level warn --pipeline "$WORK/a.yaml")
a_rss="-/$a_rss"

# (b) and (c): a fixed schedule. After a warm-up of one interval plus a little (start-up, the
# first round spread over the interval), CPU and checks are counted over a window of SECONDS.
run_schedule() {  # run_schedule N INTERVAL WARMUP SECONDS -> "checks cpu_us rss ok% p50 p99 rate"
  local n="$1" interval="$2" warmup="$3" seconds="$4"
  sites_file "$n" "$interval" "$WORK/s.json"
  pipeline "$WORK/s.json" "$interval" 4000 "$WORK/s.jsonl" > "$WORK/s.yaml"
  rm -f "$WORK/s.jsonl"
  "$AGENT" --log-level warn --pipeline "$WORK/s.yaml" 2>"$WORK/s.log" &
  local pid=$!
  sleep "$warmup"
  local cpu0 lines0 cpu1 lines1 rss
  cpu0=$(cpu_s "$pid")
  lines0=$(wc -l < "$WORK/s.jsonl")
  sleep "$seconds"
  cpu1=$(cpu_s "$pid")
  lines1=$(wc -l < "$WORK/s.jsonl")
  rss="$(rss_now_mib "$pid")/$(rss_mib "$pid")"
  kill -TERM "$pid"
  wait "$pid" || true
  sed -n "$((lines0 + 1)),${lines1}p" "$WORK/s.jsonl" > "$WORK/window.jsonl"
  local checks okp p50 p99
  read -r checks okp p50 p99 < <(stats "$WORK/window.jsonl" 0)
  local rate us
  rate=$(python3 -c "print(round($checks/$seconds))")
  us=$(python3 -c "print(round(($cpu1-$cpu0)*1e6/max($checks,1), 1))")
  echo "$checks $us $rss $okp $p50 $p99 $rate"
}
read -r b_checks b_us b_rss b_ok b_p50 b_p99 b_rate < <(run_schedule 10000 1s 5 "$B_SECONDS")
read -r c_checks c_us c_rss c_ok c_p50 c_p99 c_rate < <(run_schedule "$C_SITES" 60s "$C_WARMUP" "$C_SECONDS")

a_vs_wrk=$(python3 -c "print(round($a_rate/$wrk_rate*100, 1))")
per_cpu_ratio=$(python3 -c "print(round($bb_us/$a_us, 1))")

report=$(cat <<EOF
### http_check — $(date -u +%Y-%m-%dT%H:%M:%SZ) — $(nproc) cores, $(uname -r)

Command: \`bench/http_check.sh${1:+ $1}\` (nginx-light $(nginx -v 2>&1 | sed 's|.*/||'), 10 KB page, \`Connection: close\` semantics throughout)

| run | checks/s | CPU µs per check | RSS MiB (steady/peak) | ok % | lag p50 ms | lag p99 ms |
| --- | ---: | ---: | ---: | ---: | ---: | ---: |
| wrk -t2 -c64 -H 'Connection: close' (ceiling) | $wrk_rate | | | | | |
| blackbox_exporter 0.23, regex module, 32 concurrent probes | $bb_rate | $bb_us | $bb_rss | | | |
| agent (a) peak: $A_SITES sites once, $A_CONCURRENCY in flight like wrk's -c64, over the ${a_window} s of checking (loading the list, ${l_wall} s alone, excluded) | $a_rate | $a_us | $a_rss | | | |
| agent (b) 10,000 sites every 1 s, ${B_SECONDS} s window after 5 s | $b_rate | $b_us | $b_rss | $b_ok | $b_p50 | $b_p99 |
| agent (c) $C_SITES sites every 60 s, ${C_SECONDS} s window after ${C_WARMUP} s | $c_rate | $c_us | $c_rss | $c_ok | $c_p50 | $c_p99 |

Ratios: (a) is ${a_vs_wrk}% of wrk's Connection: close rate (target >= 70%); blackbox_exporter
spends ${per_cpu_ratio}x the CPU per probe that http_check spends per check (target >= 4x).
Every client, server and the agent share the same $(nproc) cores, so rates are lower bounds.
RSS: steady is VmRSS at the end of the window; peak is VmHWM over the whole run (site-list
loading included).

EOF
)
echo "$report"
if (( ! QUICK )); then
  printf '%s\n\n' "$report" >> "$ROOT/bench/RESULTS.md"
fi
