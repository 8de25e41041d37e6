#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# bench/sites_topic.sh [SITES]
#
# A producer that takes its sites from a Kafka sites topic, sized for docs/operations.md's
# scale-out plan: `agent sites import` of SITES sites (default 100,000), then one producer with
# interval 60s against a local nginx (a 10 KB page, `Connection: close`), measured over a full
# interval after a warm-up of one: checks/s, CPU µs per check, RSS, and how long the import and
# the producer's first read of the topic took. For comparison, in the same invocation, the same
# sites from a file (sites_file), measured the same way. Appends its table to bench/RESULTS.md.
# Needs the services up (scripts/services up; eval "$(scripts/services env)") and nginx-light.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
AGENT="${VIGIL_AGENT:-$ROOT/build/bin/agent}"
SITES="${1:-100000}"
WARMUP=65
WINDOW=60
NGINX_PORT=18082
WORK="$(mktemp -d /tmp/vigil-sites-bench-XXXXXX)"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

: "${KAFKA_PLAINTEXT_BOOTSTRAP_SERVERS:?run: eval \"\$(scripts/services env)\" (services up)}"
[[ -x "$AGENT" ]] || { echo "build the agent first (cmake --build build)" >&2; exit 1; }
source "$ROOT/bench/common.sh"
start_nginx "$NGINX_PORT"

sites_json "$SITES" "$WORK/sites.json"
TOPIC="bench-sites-$RANDOM$RANDOM"
cat > "$WORK/topic.yaml" <<EOF
pipeline: bench
source:
  plugin: http_check
  interval: 60s
  timeout: 5s
  max_concurrency: 4000
  batch_size: 2000
  sites_topic: {topic: $TOPIC, group: $TOPIC-producers, brokers: "$KAFKA_PLAINTEXT_BOOTSTRAP_SERVERS", partitions: 12}
sinks: [{plugin: stdout_sink, path: $WORK/out.jsonl}]
EOF
cat > "$WORK/file.yaml" <<EOF
pipeline: bench
source: {plugin: http_check, interval: 60s, timeout: 5s, max_concurrency: 4000, batch_size: 2000, sites_file: $WORK/sites.json}
sinks: [{plugin: stdout_sink, path: $WORK/out.jsonl}]
EOF

t0=$(now)
"$AGENT" sites import "$WORK/sites.json" --pipeline "$WORK/topic.yaml" 2>"$WORK/import.log"
t1=$(now)
import_s=$(python3 -c "print(round($t1-$t0, 1))")
echo "==> imported $SITES sites in $import_s s" >&2

measure() {  # measure PIPELINE FROM_TOPIC -> "checks/s cpu_us rss_mib first_read_s"
  rm -f "$WORK/out.jsonl"
  local start pid first="-"
  start=$(now)
  "$AGENT" --log-level info --pipeline "$1" 2>"$WORK/agent.log" &
  pid=$!
  if (( $2 )); then
    # The first read of the topic: each partition read to its end logs the share so far.
    for _ in $(seq 1200); do
      local have
      have=$(grep -o "[0-9]* site(s) in this producer's share" "$WORK/agent.log" | tail -1 | cut -d' ' -f1 || true)
      if [[ "${have:-0}" == "$SITES" ]]; then first=$(python3 -c "print(round($(now)-$start, 1))"); break; fi
      sleep 0.1
    done
  fi
  sleep "$WARMUP"
  local cpu0 lines0 cpu1 lines1 rss
  cpu0=$(cpu_s "$pid"); lines0=$(wc -l < "$WORK/out.jsonl")
  sleep "$WINDOW"
  cpu1=$(cpu_s "$pid"); lines1=$(wc -l < "$WORK/out.jsonl")
  rss=$(rss_now_mib "$pid")
  kill -TERM "$pid"; wait "$pid" || true
  local checks=$((lines1 - lines0))
  echo "$(python3 -c "print(round($checks/$WINDOW))") $(python3 -c "print(round(($cpu1-$cpu0)*1e6/max($checks,1), 1))") $rss $first"
}
read -r t_rate t_us t_rss t_first < <(measure "$WORK/topic.yaml" 1)
read -r f_rate f_us f_rss _ < <(measure "$WORK/file.yaml" 0)

report=$(cat <<EOF
### sites topic: $SITES sites every 60 s from a Kafka sites topic — $(date -u +%Y-%m-%dT%H:%M:%SZ) — $(nproc) cores

Command: \`bench/sites_topic.sh${1:+ $1}\` (services up; nginx-light, 10 KB page; Kafka 4.1.1 on this machine; ${WINDOW} s window after ${WARMUP} s)

| producer | checks/s | CPU µs per check | RSS MiB | notes |
| --- | ---: | ---: | ---: | --- |
| sites from the topic (12 partitions, one producer in the group) | $t_rate | $t_us | $t_rss | import of the $SITES sites: ${import_s} s (validated, published, acknowledged); first read of the topic: ${t_first} s |
| the same sites from a file (sites_file) | $f_rate | $f_us | $f_rss | |

Per site, the topic costs the producer $(python3 -c "print(round(($t_rss-$f_rss)*1024*1024/$SITES))") bytes of memory more than the file
(each definition is kept as published, so SIGHUP can read it again with new defaults).

EOF
)
echo "$report"
printf '%s\n\n' "$report" >> "$ROOT/bench/RESULTS.md"
