#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# bench/tcp_check.sh [--quick]
#
# tcp_check against a local nginx's port (connect, then close: what a port check does), side by
# side in one run with prometheus-blackbox-exporter's tcp prober on the same port, driven by wrk
# at its /probe endpoint. Scenarios: (a) peak: many sites once (--once), 64 in flight beside the
# 32 concurrent probes; (b) 2,000 sites every 1 s. Reports checks/s, CPU µs per check, RSS and
# lag p50/p99, the ratio of blackbox_exporter's CPU per probe to tcp_check's per check (target
# >= 4x), and appends them with this command to bench/RESULTS.md.
# Needs: nginx-light wrk prometheus-blackbox-exporter (installed here if missing), a built agent.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
AGENT="${VIGIL_AGENT:-$ROOT/build/bin/agent}"
QUICK=0
[[ "${1:-}" == "--quick" ]] && QUICK=1
DURATION=10
B_SECONDS=30
A_SITES=20000
B_SITES=2000
if (( QUICK )); then DURATION=3; B_SECONDS=8; A_SITES=5000; fi
NGINX_PORT=18082
BLACKBOX_PORT=19116
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
start_nginx "$NGINX_PORT"
TARGET="127.0.0.1:$NGINX_PORT"

# ---- blackbox_exporter's tcp prober, 32 probes at once ------------------------------------------
printf 'modules:\n  tcp_connect:\n    prober: tcp\n    timeout: 5s\n' > "$WORK/blackbox.yml"
prometheus-blackbox-exporter --config.file="$WORK/blackbox.yml" \
  --web.listen-address="127.0.0.1:$BLACKBOX_PORT" --log.level=error >"$WORK/blackbox.log" 2>&1 &
BB=$!
PIDS+=("$BB")
for _ in $(seq 50); do curl -fsS -o /dev/null "http://127.0.0.1:$BLACKBOX_PORT/metrics" 2>/dev/null && break; sleep 0.1; done
PROBE="http://127.0.0.1:$BLACKBOX_PORT/probe?module=tcp_connect&target=$TARGET"
curl -fsS "$PROBE" | grep -q '^probe_success 1' || { echo "blackbox probe failed" >&2; exit 1; }
bb_cpu0=$(cpu_s "$BB")
bb_out=$(wrk -t1 -c32 -d"${DURATION}s" "$PROBE")
bb_cpu1=$(cpu_s "$BB")
bb_probes=$(echo "$bb_out" | awk '/requests in/ {print $1}')
bb_rate=$(echo "$bb_out" | awk '/Requests\/sec/ {print $2}')
bb_us=$(python3 -c "print(round(($bb_cpu1-$bb_cpu0)*1e6/$bb_probes, 1))")
bb_rss="$(rss_now_mib "$BB")/$(rss_mib "$BB")"
kill "$BB"

# ---- agent -------------------------------------------------------------------------------------
pipeline() {  # pipeline N INTERVAL CONCURRENCY OUT
  python3 -c 'import json, sys; print(json.dumps([{"name": f"port-{i}", "url": "tcp://" + sys.argv[2]} for i in range(int(sys.argv[1]))]))' \
    "$1" "$TARGET" > "$WORK/sites-$1.json"
  printf 'pipeline: bench\nsource:\n  plugin: tcp_check\n  sites_file: %s\n  interval: %s\n  timeout: 5s\n' \
    "$WORK/sites-$1.json" "$2"
  printf '  max_concurrency: %s\n  batch_size: 2000\nsinks:\n  - plugin: stdout_sink\n    path: %s\nmax_in_flight: 16\n' \
    "$3" "$4"
}

# (a) peak: every site once, 64 in flight; loading the list is measured alone and subtracted.
pipeline "$A_SITES" 1h 64 /dev/null > "$WORK/a.yaml"
/usr/bin/time -f "%e %U %S %M" -o "$WORK/a0.time" "$AGENT" --check-config --pipeline "$WORK/a.yaml" >/dev/null 2>&1
/usr/bin/time -f "%e %U %S %M" -o "$WORK/a.time" "$AGENT" --once --log-level warn --pipeline "$WORK/a.yaml"
read -r l_wall l_user l_sys _ < "$WORK/a0.time"
read -r a_wall a_user a_sys a_rss_kib < "$WORK/a.time"
a_rate=$(python3 -c "print(round($A_SITES/max($a_wall-$l_wall, 0.001)))")
a_us=$(python3 -c "print(round(($a_user+$a_sys-$l_user-$l_sys)*1e6/$A_SITES, 1))")
a_rss="-/$(python3 -c "print(round($a_rss_kib/1024, 1))")"

# (b) a fixed schedule: after a warm-up of 5 s, CPU and checks over a window.
pipeline "$B_SITES" 1s 4000 "$WORK/b.jsonl" > "$WORK/b.yaml"
"$AGENT" --log-level warn --pipeline "$WORK/b.yaml" 2>"$WORK/b.log" &
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

ratio_a=$(python3 -c "print(round($bb_us/$a_us, 1))")
ratio_b=$(python3 -c "print(round($bb_us/$b_us, 1))")
report="### tcp_check — $(date -u +%Y-%m-%dT%H:%M:%SZ) — $(nproc) cores, $(uname -r)

Command: \`bench/tcp_check.sh${1:+ $1}\` (connect to nginx-light's port and close, as a port check does)

| run | checks/s | CPU µs per check | RSS MiB (steady/peak) | ok % | lag p50 ms | lag p99 ms |
| --- | ---: | ---: | ---: | ---: | ---: | ---: |
| blackbox_exporter, tcp prober, 32 concurrent probes (anchor) | $bb_rate | $bb_us | $bb_rss | | | |
| agent (a) peak: $A_SITES ports once, 64 in flight (loading the list, ${l_wall} s, excluded) | $a_rate | $a_us | $a_rss | | | |
| agent (b) $B_SITES ports every 1 s, ${B_SECONDS} s window after 5 s | $b_rate | $b_us | $b_rss | $b_ok | $b_p50 | $b_p99 |

Ratio: blackbox_exporter spends ${ratio_a}x (peak) and ${ratio_b}x (scheduled) the CPU per probe
that tcp_check spends per check (target >= 4x). blackbox_exporter's figure includes answering
the HTTP /probe request that drives it, as it does under Prometheus; wrk's own CPU is not counted."
echo "$report"
if (( ! QUICK )); then
  printf '%s\n\n' "$report" >> "$ROOT/bench/RESULTS.md"
fi
