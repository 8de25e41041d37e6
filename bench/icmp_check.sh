#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# bench/icmp_check.sh [--quick]
#
# icmp_check against fping (Debian), the ping tool made for many hosts, over the same addresses
# in one run: N loopback addresses (127.1.x.y: every address of 127/8 answers on lo), 3 echo
# requests each, 200 ms apart. fping paces its sends (-i, here 0.1 ms between any two); the
# agent starts every check at once (max_concurrency N). Reports probes/s, CPU µs per probe (an
# echo request and its reply), RSS, loss, the ratio of icmp_check's CPU per probe to fping's
# (target: within 2x), and appends them with this command to bench/RESULTS.md.
# Needs: fping (installed here if missing), a built agent, and root or a ping_group_range that
# lets this user open a ping socket (fping and the agent need the same).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
AGENT="${VIGIL_AGENT:-$ROOT/build/bin/agent}"
QUICK=0
[[ "${1:-}" == "--quick" ]] && QUICK=1
HOSTS=5000
(( QUICK )) && HOSTS=1000
PACKETS=3
WORK="$(mktemp -d /tmp/vigil-bench-XXXXXX)"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

command -v fping >/dev/null ||
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends fping >/dev/null
[[ -x "$AGENT" ]] || { echo "build the agent first (cmake --build build)" >&2; exit 1; }

python3 -c 'import sys; [print(f"127.1.{i // 250}.{i % 250 + 1}") for i in range(int(sys.argv[1]))]' "$HOSTS" \
  > "$WORK/hosts.txt"

# ---- fping: 3 pings per host, 200 ms apart per host, 0.1 ms between any two sends ----------------
/usr/bin/time -f "%e %U %S %M" -o "$WORK/fping.time" \
  fping -q -C "$PACKETS" -p 200 -i 0.1 -t 1000 -f "$WORK/hosts.txt" 2> "$WORK/fping.out" || true
read -r fp_wall fp_user fp_sys fp_rss_kib < "$WORK/fping.time"
read -r fp_sent fp_received < <(python3 -c '
import sys
sent = got = 0
for line in open(sys.argv[1]):
    if " : " not in line:
        continue
    for v in line.split(" : ", 1)[1].split():
        sent += 1; got += v != "-"
print(sent, got)' "$WORK/fping.out")
fp_us=$(python3 -c "print(round(($fp_user+$fp_sys)*1e6/max($fp_sent,1), 1))")
fp_rate=$(python3 -c "print(round($fp_sent/max($fp_wall,0.001)))")
fp_loss=$(python3 -c "print(round(100*(1-$fp_received/max($fp_sent,1)), 2))")
fp_rss=$(python3 -c "print(round($fp_rss_kib/1024, 1))")

# ---- agent: the same hosts, every check at once ----------------------------------------------------
python3 -c 'import json, sys; print(json.dumps([{"name": f"host-{i}", "url": "icmp://" + h.strip()} for i, h in enumerate(open(sys.argv[1]))]))' \
  "$WORK/hosts.txt" > "$WORK/sites.json"
cat > "$WORK/agent.yaml" <<YAML
pipeline: bench
source:
  plugin: icmp_check
  sites_file: $WORK/sites.json
  interval: 1h
  packets: $PACKETS
  packet_interval: 200ms
  timeout: 1s
  max_concurrency: $HOSTS
  batch_size: 2000
sinks:
  - plugin: stdout_sink
    path: $WORK/records.jsonl
max_in_flight: 16
YAML
/usr/bin/time -f "%e %U %S %M" -o "$WORK/load.time" "$AGENT" --check-config --pipeline "$WORK/agent.yaml" >/dev/null 2>&1
/usr/bin/time -f "%e %U %S %M" -o "$WORK/agent.time" "$AGENT" --once --log-level warn --pipeline "$WORK/agent.yaml"
read -r l_wall l_user l_sys _ < "$WORK/load.time"
read -r a_wall a_user a_sys a_rss_kib < "$WORK/agent.time"
read -r a_sent a_received a_p50 < <(python3 -c '
import json, sys
sent = got = 0; rtts = []
for line in open(sys.argv[1]):
    r = json.loads(line); sent += r["packets_sent"] or 0; got += r["packets_received"] or 0
    if r["rtt_avg_ms"] is not None: rtts.append(r["rtt_avg_ms"])
rtts.sort()
print(sent, got, round(rtts[len(rtts) // 2], 3) if rtts else "nan")' "$WORK/records.jsonl")
a_us=$(python3 -c "print(round(($a_user+$a_sys-$l_user-$l_sys)*1e6/max($a_sent,1), 1))")
a_rate=$(python3 -c "print(round($a_sent/max($a_wall-$l_wall,0.001)))")
a_loss=$(python3 -c "print(round(100*(1-$a_received/max($a_sent,1)), 2))")
a_rss=$(python3 -c "print(round($a_rss_kib/1024, 1))")

ratio=$(python3 -c "print(round($a_us/max($fp_us,0.001), 2))")
report="### icmp_check — $(date -u +%Y-%m-%dT%H:%M:%SZ) — $(nproc) cores, $(uname -r)

Command: \`bench/icmp_check.sh${1:+ $1}\` ($HOSTS loopback addresses, $PACKETS echo requests each, 200 ms apart)

| run | probes | probes/s | CPU µs per probe | RSS MiB (peak) | loss % |
| --- | ---: | ---: | ---: | ---: | ---: |
| fping $(fping -v 2>&1 | awk '{print $NF}'), -C $PACKETS -p 200 -i 0.1 (anchor) | $fp_sent | $fp_rate | $fp_us | $fp_rss | $fp_loss |
| agent: icmp_check --once, every check at once (loading the list, ${l_wall} s, excluded); rtt p50 ${a_p50} ms | $a_sent | $a_rate | $a_us | $a_rss | $a_loss |

Ratio: icmp_check spends ${ratio}x fping's CPU per probe (target: within 2x), and that includes
a record per check (loss, rtt min/avg/max/stddev, a check id, JSON to the sink) where fping
prints one line per host. fping's rate is its own pacing (-i); the agent's is bounded by the
200 ms between a check's requests."
echo "$report"
if (( ! QUICK )); then
  printf '%s\n\n' "$report" >> "$ROOT/bench/RESULTS.md"
fi
