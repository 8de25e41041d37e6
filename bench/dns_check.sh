#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# bench/dns_check.sh [--quick]
#
# dns_check against a local nsd serving the fixture zone (scripts/services' dns part, here on a
# port of its own), side by side in one run with dnsperf (Debian), the DNS server benchmark's
# own load generator, asking the same server the same question. nsd runs on core 0; dnsperf and
# the agent each get core 1 alone (taskset), so "on one core" is what is compared. Scenarios:
# (a) peak: many sites once (--once), 100 in flight, as dnsperf's default 100 outstanding
# queries, measured from the first check's start to the last one's end (bench/checking_window.py); (b) 2,000 sites every 1 s. Reports queries/s, CPU µs per query, RSS and lag p50/p99,
# the ratio of dns_check's peak rate to dnsperf's (target >= 0.5) and their CPU per query, and
# appends them with this command to bench/RESULTS.md.
# Needs: nsd and dnsperf (installed here if missing), a built agent.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
AGENT="${VIGIL_AGENT:-$ROOT/build/bin/agent}"
QUICK=0
[[ "${1:-}" == "--quick" ]] && QUICK=1
DURATION=10
B_SECONDS=30
A_SITES=100000
B_SITES=2000
if (( QUICK )); then DURATION=3; B_SECONDS=8; A_SITES=20000; fi
WORK="$(mktemp -d /tmp/vigil-bench-XXXXXX)"
PIDS=()

for tool in nsd dnsperf; do
  if ! command -v "$tool" >/dev/null && [[ ! -x "/usr/sbin/$tool" ]]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nsd dnsperf >/dev/null
    break
  fi
done
[[ -x "$AGENT" ]] || { echo "build the agent first (cmake --build build)" >&2; exit 1; }
source "$ROOT/bench/common.sh"

# nsd as scripts/services runs it, with its state in this run's scratch directory.
export VIGIL_SERVICES_DIR="$WORK/services" VIGIL_DNS_PORT="${VIGIL_BENCH_DNS_PORT:-18053}"
# shellcheck source=/dev/null
source "$ROOT/scripts/services.d/common.sh"
# shellcheck source=/dev/null
source "$ROOT/scripts/services.d/dns.sh"
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; dns_down >/dev/null 2>&1 || true; rm -rf "$WORK"; }
trap cleanup EXIT
dns_up
taskset -pc 0 "$(dns_pid)" >/dev/null
for child in $(pgrep -P "$(dns_pid)"); do taskset -pc 0 "$child" >/dev/null; done
SERVER="127.0.0.1:$DNS_PORT"
QUESTION="www.vigil.test"

# ---- dnsperf: the same question, 100 outstanding, one thread on core 1 --------------------------
echo "$QUESTION A" > "$WORK/queries.txt"
/usr/bin/time -f "%e %U %S %M" -o "$WORK/dnsperf.time" taskset -c 1 dnsperf -s 127.0.0.1 -p "$DNS_PORT" \
  -d "$WORK/queries.txt" -l "$DURATION" -c 1 -T 1 -q 100 > "$WORK/dnsperf.out" 2>&1
dp_queries=$(awk '/Queries completed:/ {print $3}' "$WORK/dnsperf.out")
dp_lost=$(awk '/Queries lost:/ {print $3}' "$WORK/dnsperf.out")
dp_rate=$(awk '/Queries per second:/ {printf "%.0f", $4}' "$WORK/dnsperf.out")
read -r _ dp_user dp_sys dp_rss_kib < "$WORK/dnsperf.time"
dp_us=$(python3 -c "print(round(($dp_user+$dp_sys)*1e6/max($dp_queries,1), 1))")
dp_rss=$(python3 -c "print(round($dp_rss_kib/1024, 1))")

# ---- agent -------------------------------------------------------------------------------------
pipeline() {  # pipeline N INTERVAL CONCURRENCY OUT
  python3 -c 'import json, sys; print(json.dumps([{"name": f"name-{i}", "url": f"dns://{sys.argv[2]}/{sys.argv[3]}"} for i in range(int(sys.argv[1]))]))' \
    "$1" "$SERVER" "$QUESTION" > "$WORK/sites-$1.json"
  printf 'pipeline: bench\nsource:\n  plugin: dns_check\n  sites_file: %s\n  interval: %s\n  timeout: 5s\n' \
    "$WORK/sites-$1.json" "$2"
  printf '  answers: [127.0.0.1, 127.0.0.2]\n  max_concurrency: %s\n  batch_size: 2000\n' "$3"
  printf 'sinks:\n  - plugin: stdout_sink\n    path: %s\nmax_in_flight: 16\n' "$4"
}

# (a) peak: every site once, 100 in flight, measured over the checking alone (from the first
# check's start to the last one's end, CPU read from /proc inside that window): loading the list
# and tearing it down are left out, as dnsperf's rate leaves out its own start and exit.
pipeline "$A_SITES" 1h 100 "$WORK/a.jsonl" > "$WORK/a.yaml"
/usr/bin/time -f "%e %U %S %M" -o "$WORK/a0.time" taskset -c 1 "$AGENT" --check-config --pipeline "$WORK/a.yaml" \
  >/dev/null 2>&1
read -r l_wall _ < "$WORK/a0.time"
read -r _ a_window a_rate a_us a_rss a_ok < <(taskset -c 0 python3 "$ROOT/bench/checking_window.py" "$WORK/a.jsonl" -- \
  taskset -c 1 "$AGENT" --once --log-level warn --pipeline "$WORK/a.yaml")
a_rss="-/$a_rss"

# (b) a fixed schedule: after a warm-up of 5 s, CPU and checks over a window.
pipeline "$B_SITES" 1s 4000 "$WORK/b.jsonl" > "$WORK/b.yaml"
taskset -c 1 "$AGENT" --log-level warn --pipeline "$WORK/b.yaml" 2>"$WORK/b.log" &
pid=$!
PIDS+=("$pid")
sleep 5
cpu0=$(cpu_s "$pid"); lines0=$(wc -l < "$WORK/b.jsonl")
sleep "$B_SECONDS"
cpu1=$(cpu_s "$pid"); lines1=$(wc -l < "$WORK/b.jsonl")
b_rss="$(rss_now_mib "$pid")/$(rss_mib "$pid")"
kill -TERM "$pid"; wait "$pid" || true
read -r b_checks b_ok b_p50 b_p99 < <(sed -n "$((lines0 + 1)),${lines1}p" "$WORK/b.jsonl" | python3 -c '
import json, sys
lags, ok, n = [], 0, 0
for line in sys.stdin:
    r = json.loads(line); n += 1; ok += r["ok"] is True; lags.append(r["lag_ms"])
lags.sort()
pct = lambda p: lags[min(len(lags) - 1, int(p * len(lags)))] if lags else float("nan")
print(n, round(ok / max(n, 1) * 100, 2), round(pct(0.5), 2), round(pct(0.99), 2))')
b_rate=$(python3 -c "print(round($b_checks/$B_SECONDS))")
b_us=$(python3 -c "print(round(($cpu1-$cpu0)*1e6/max($b_checks,1), 1))")

ratio=$(python3 -c "print(round($a_rate/max($dp_rate,1), 2))")
cpu_ratio=$(python3 -c "print(round($a_us/max($dp_us,0.001), 1))")
report="### dns_check — $(date -u +%Y-%m-%dT%H:%M:%SZ) — $(nproc) cores, $(uname -r)

Command: \`bench/dns_check.sh${1:+ $1}\` (\`$QUESTION A\` asked of nsd $(nsd -v 2>&1 | head -1 | awk '{print $NF}') on core 0; dnsperf and the agent on core 1)

| run | queries/s | CPU µs per query | RSS MiB (steady/peak) | ok % | lag p50 ms | lag p99 ms |
| --- | ---: | ---: | ---: | ---: | ---: | ---: |
| dnsperf $(dnsperf -h 2>&1 | awk '/^Version/ {print $2}'), 1 thread, 100 outstanding, ${DURATION} s (anchor; lost: $dp_lost) | $dp_rate | $dp_us | -/$dp_rss | | | |
| agent (a) peak: $A_SITES names once, 100 in flight, over the ${a_window} s of checking (loading the list, ${l_wall} s alone, excluded) | $a_rate | $a_us | $a_rss | $a_ok | | |
| agent (b) $B_SITES names every 1 s, ${B_SECONDS} s window after 5 s | $b_rate | $b_us | $b_rss | $b_ok | $b_p50 | $b_p99 |

Ratio: dns_check's peak rate on one core is ${ratio}x dnsperf's (target >= 0.5x); it spends
${cpu_ratio}x dnsperf's CPU per query, which buys a record per query (the answer read into
records with ldns, judged, a check id, JSON to the sink) where dnsperf only counts answers."
echo "$report"
if (( ! QUICK )); then
  printf '%s\n\n' "$report" >> "$ROOT/bench/RESULTS.md"
fi
