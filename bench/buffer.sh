#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# bench/buffer.sh [--quick]
#
# The disk buffer, with the shipped etc/producer.yaml and etc/consumer.yaml on the local services
# and nginx serving the sites, in one run:
#   1. 10,000 sites every 10 s (1,000 checks/s). CPU per check of the producer over a steady
#      window with `buffer: memory` (the reference) and with `buffer: disk`; then a Kafka outage
#      of OUTAGE seconds (600; SIGKILL, then started again) with checking going on: slot coverage
#      in PostgreSQL, the buffer's peak bytes, and the drain after the broker is back (records
#      per second while checks go on, against the check rate; target >= 20x).
#   2. 10,000 sites every 1 s, no outage: check -> row latency, from each check's end
#      (timestamp + response_time) to its row's commit time, a clock_timestamp() column added
#      to the bench's own database (targets p50 <= 250 ms, p99 <= 1 s).
# Appends a table with this command to bench/RESULTS.md (not with --quick: 60 s outage, shorter
# windows); --latency runs part 2 alone and appends its own table. Needs: the services up (scripts/services up), a built tree, nginx-light (installed
# here if missing).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
AGENT="${VIGIL_AGENT:-$ROOT/build/bin/agent}"
QUICK=0; LATENCY_ONLY=0
[[ "${1:-}" == "--quick" ]] && QUICK=1
[[ "${1:-}" == "--latency" ]] && LATENCY_ONLY=1   # part 2 alone
OUTAGE=600; CPU_WINDOW=60; LAT_WINDOW=60
if (( QUICK )); then OUTAGE=60; CPU_WINDOW=20; LAT_WINDOW=20; fi
SITES=10000
NGINX_PORT=18381  # not 18081: the schema registry of scripts/services listens there
PMETRICS=127.0.0.1:19481; CMETRICS=127.0.0.1:19482
eval "$("$ROOT/scripts/services" env)"
WORK="$(mktemp -d /tmp/vigil-bench-buffer-XXXXXX)"
chmod 755 "$WORK"
TAG="bbuf$(date +%s)"
DB="${TAG}_db"
PIDS=()
url_for() { python3 -c 'import sys,re; u=sys.argv[1]; print(re.sub(r"(//[^/]+/)[^?]*", r"\g<1>"+sys.argv[2], u, count=1))' "$DATABASE_URL" "$1"; }
DB_URL="$(url_for "$DB")"
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  "$ROOT/scripts/services" start kafka >/dev/null 2>&1 || true
  psql "$DATABASE_URL" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
say() { echo "bench: $*" >&2; }
now() { date +%s.%N; }
py() { python3 -c "print($*)"; }
cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.3f", ($14+$15)/hz}' "/proc/$1/stat"; }
# The sum of the series on an agent's /metrics whose line starts with $2.
metric() { curl -fsS "http://$1/metrics" 2>/dev/null | awk -v p="$2" 'index($0, p) == 1 {s += $NF} END {printf "%.0f", s}'; }
checks() { metric "$PMETRICS" "vigil_http_check_checks_total{"; }
rows() { psql "$DB_URL" -Atc "SELECT count(*) FROM metrics" 2>/dev/null || echo 0; }

command -v nginx >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx-light >/dev/null
[[ -x "$AGENT" ]] || { echo "build the agent first (cmake --build build)" >&2; exit 1; }

# ---- nginx: a small page, as most monitored pages' status endpoints are -------------------------
mkdir -p "$WORK/www" "$WORK/nginx"
chmod 755 "$WORK/www"
echo '<html><title>Vigil bench</title><body>ok</body></html>' > "$WORK/www/ok.html"
cat > "$WORK/nginx/nginx.conf" <<EOF
worker_processes 1;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 4096; }
http { access_log off; server { listen 127.0.0.1:$NGINX_PORT backlog=4096; root $WORK/www; } }
EOF
nginx -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx" -g "daemon on;"
PIDS+=("$(cat "$WORK/nginx/nginx.pid")")
python3 - "$SITES" "http://127.0.0.1:$NGINX_PORT/ok.html" > "$WORK/sites.json" <<'PY'
import json, sys
n, url = int(sys.argv[1]), sys.argv[2]
print(json.dumps([{"name": f"site-{i}", "url": f"{url}?{i}", "regex": "Vigil bench"} for i in range(n)]))
PY

psql "$DATABASE_URL" -qc "CREATE DATABASE $DB" >/dev/null
"$AGENT" migrate --database-url "$DB_URL" >/dev/null
# When each row was written: pg_sink names its columns, so this one takes its default.
psql "$DB_URL" -qc "ALTER TABLE metrics ADD COLUMN stored_at timestamptz NOT NULL DEFAULT clock_timestamp()"

export SITES_FILE="$WORK/sites.json" REQUEST_TIMEOUT=5s DATABASE_URL="$DB_URL"
export PRODUCER_METRICS_LISTEN=$PMETRICS CONSUMER_METRICS_LISTEN=$CMETRICS BUFFER_PATH="$WORK/buffer"
start_producer() {  # start_producer BUFFER_TYPE INTERVAL TOPIC
  BUFFER_TYPE=$1 CHECK_INTERVAL=$2 KAFKA_TOPIC=$3 "$AGENT" --pipeline "$ROOT/etc/producer.yaml" \
    --log-level warn 2>>"$WORK/producer.log" &
  PRODUCER=$!
  PIDS+=("$PRODUCER")
  for _ in $(seq 100); do curl -fsS -o /dev/null "http://$PMETRICS/healthz" 2>/dev/null && return; sleep 0.1; done
  echo "the producer did not start; see $WORK/producer.log" >&2; tail "$WORK/producer.log" >&2; exit 1
}
stop() { kill -TERM "$1"; wait "$1" || true; }
# CPU µs per check of the producer over WINDOW seconds, after WARMUP.
cpu_per_check() {  # cpu_per_check WARMUP WINDOW
  sleep "$1"
  local c0 n0 c1 n1
  c0=$(cpu_s "$PRODUCER"); n0=$(checks)
  sleep "$2"
  c1=$(cpu_s "$PRODUCER"); n1=$(checks)
  py "round(($c1 - $c0) * 1e6 / max($n1 - $n0, 1), 1), $n1 - $n0" | tr -d '(),'
}

if (( ! LATENCY_ONLY )); then
# ---- 1. CPU: what the disk buffer adds ------------------------------------------------------------
# (i) per record, with nothing else in the way: counting_source -> stdout_sink (/dev/null),
# 200,000 records, memory then disk, twice each; user+sys CPU of the whole run.
run_cpu() {  # run_cpu TYPE -> CPU seconds
  rm -rf "$WORK/cbuf"
  cat > "$WORK/c.yaml" <<YAML
pipeline: cpu
buffer: {type: $1, path: $WORK/cbuf}
source: {plugin: counting_source, count: 200000, batch_size: 500}
sinks: [{plugin: stdout_sink, path: /dev/null}]
YAML
  /usr/bin/time -f "%U %S" -o "$WORK/c.time" "$AGENT" --once --log-level error --plugin-dir "$ROOT/build/tests/plugins" \
    --pipeline "$WORK/c.yaml" 2>/dev/null
  awk '{print $1 + $2}' "$WORK/c.time"
}
m1=$(run_cpu memory); d1=$(run_cpu disk); m2=$(run_cpu memory); d2=$(run_cpu disk)
rec_us=$(py "round(((($d1 + $d2) - ($m1 + $m2)) / 2) * 1e6 / 200000, 1)")
say "disk buffer alone: +$rec_us µs CPU per record (memory $m1/$m2 s, disk $d1/$d2 s for 200,000 records)"

# (ii) the producer as shipped, 10,000 sites every 10 s, over CPU_WINDOW each: memory, disk,
# memory, disk (alternated, so drift of the shared machine falls on both).
mem=(); dsk=()
for type in memory disk memory disk; do
  start_producer "$type" 10s "$TAG-cpu-$type"
  read -r us n < <(cpu_per_check 15 "$CPU_WINDOW")
  stop "$PRODUCER"
  say "  $type: $us µs per check over $n checks"
  if [[ $type == memory ]]; then mem+=("$us"); else dsk+=("$us"); fi
done
mem_us=$(py "round((${mem[0]} + ${mem[1]}) / 2, 1)")
disk_us=$(py "round((${dsk[0]} + ${dsk[1]}) / 2, 1)")
rm -rf "$WORK/buffer"

say "a ${OUTAGE} s Kafka outage with buffer: disk"
TOPIC="$TAG-disk"
KAFKA_TOPIC=$TOPIC KAFKA_CONSUMER_GROUP=$TAG-group "$AGENT" --pipeline "$ROOT/etc/consumer.yaml" \
  --log-level warn 2>"$WORK/consumer.log" &
CONSUMER=$!
PIDS+=("$CONSUMER")
t_start=$(now)
start_producer disk 10s "$TOPIC"
sleep 30

"$ROOT/scripts/services" kill kafka >/dev/null
t_down=$(now)
peak=0
while (( $(py "int($(now) - $t_down < $OUTAGE)") )); do
  b=$(metric "$PMETRICS" 'vigil_buffer_bytes{pipeline="producer"}')
  (( b > peak )) && peak=$b
  sleep 5
done
held=$(metric "$PMETRICS" 'vigil_buffer_records{pipeline="producer"}')
b=$(metric "$PMETRICS" 'vigil_buffer_bytes{pipeline="producer"}'); (( b > peak )) && peak=$b
say "  after ${OUTAGE} s: $held records in the buffer, peak $(py "round($peak / 2**20, 1)") MiB"
"$ROOT/scripts/services" start kafka >/dev/null
t_back=$(now)
# Drained: the buffer down to less than a second of checks (what is always in flight).
while (( $(metric "$PMETRICS" 'vigil_buffer_records{pipeline="producer"}') > 1000 )); do sleep 0.2; done
t_drained=$(now)
drain_s=$(py "round($t_drained - $t_back, 1)")
rate=$(( SITES / 10 ))
drain_rate=$(py "round(($held + $rate * ($t_drained - $t_back)) / ($t_drained - $t_back))")
say "  drained in $drain_s s after Kafka was back: $drain_rate records/s while checking on"
sleep 20
t_end=$(now)
stop "$PRODUCER"
total=$(/usr/bin/python3 - "$TOPIC" <<'PY'
import sys
from kafka import KafkaConsumer, TopicPartition
import os
c = KafkaConsumer(bootstrap_servers=os.environ["KAFKA_PLAINTEXT_BOOTSTRAP_SERVERS"])
parts = [TopicPartition(sys.argv[1], p) for p in c.partitions_for_topic(sys.argv[1])]
end, beg = c.end_offsets(parts), c.beginning_offsets(parts)
print(sum(end[p] - beg[p] for p in parts))
PY
)
for _ in $(seq 600); do (( $(rows) >= total )) && break; sleep 0.5; done
# Coverage over whole intervals from the first full one to the last: each site has exactly one
# slot per 10 s in any such window.
read -r covered expected < <(psql "$DB_URL" -Atc "
  SELECT count(*), $SITES * floor(($t_end - $t_start - 25) / 10)::bigint
  FROM metrics WHERE \"timestamp\" >= to_timestamp($t_start + 15)
    AND \"timestamp\" < to_timestamp($t_start + 15) + floor(($t_end - $t_start - 25) / 10) * interval '10 s'" | tr '|' ' ')
coverage=$(py "round(100 * $covered / $expected, 3)")
dups=$(psql "$DB_URL" -Atc "SELECT count(*) - count(DISTINCT check_id) FROM metrics")
say "  coverage $coverage% ($covered of $expected slots), duplicates $dups"
stop "$CONSUMER"
fi

# ---- 2. check -> row latency at 10,000 checks/s ----------------------------------------------------
say "latency: 10,000 sites every 1 s"
psql "$DB_URL" -qc "TRUNCATE metrics"
TOPIC="$TAG-latency"
KAFKA_TOPIC=$TOPIC KAFKA_CONSUMER_GROUP=$TAG-lgroup "$AGENT" --pipeline "$ROOT/etc/consumer.yaml" \
  --log-level warn 2>>"$WORK/consumer.log" &
CONSUMER=$!
PIDS+=("$CONSUMER")
start_producer disk 1s "$TOPIC"
sleep 15
t_a=$(now)
sleep "$LAT_WINDOW"
t_b=$(now)
stop "$PRODUCER"
sleep 5
stop "$CONSUMER"
read -r lat_n lat_rate lat_p50 lat_p99 lat_max < <(psql "$DB_URL" -Atc "
  WITH l AS (SELECT extract(epoch FROM stored_at - \"timestamp\") * 1000 - response_time AS ms FROM metrics
             WHERE \"timestamp\" >= to_timestamp($t_a) AND \"timestamp\" < to_timestamp($t_b))
  SELECT count(*), round(count(*) / ($t_b - $t_a)), round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 1),
         round(percentile_cont(0.99) WITHIN GROUP (ORDER BY ms)::numeric, 1), round(max(ms)::numeric, 1) FROM l" | tr '|' ' ')
say "  $lat_n checks ($lat_rate/s): p50 $lat_p50 ms, p99 $lat_p99 ms, max $lat_max ms"

if (( LATENCY_ONLY )); then
  report=$(cat <<EOF
### disk buffer, latency only — $(date -u +%Y-%m-%dT%H:%M:%SZ) — $(nproc) cores

Command: \`bench/buffer.sh --latency\` (part 2 of the full run alone: shipped pipelines, 10,000 sites every 1 s)

| check -> row latency | checks/s | p50 | p99 | max |
| --- | ---: | ---: | ---: | ---: |
| measured (targets: p50 <= 250 ms, p99 <= 1,000 ms) | $lat_rate | $lat_p50 ms | $lat_p99 ms | $lat_max ms |

EOF
)
  echo "$report"
  printf '%s\n\n' "$report" >> "$ROOT/bench/RESULTS.md"
  exit 0
fi
added=$(py "round($disk_us - $mem_us, 1)")
ratio=$(py "round($drain_rate / $rate, 1)")
report=$(cat <<EOF
### disk buffer — $(date -u +%Y-%m-%dT%H:%M:%SZ) — $(nproc) cores, $(uname -r)

Command: \`bench/buffer.sh${1:+ $1}\` (shipped etc/producer.yaml and etc/consumer.yaml, Kafka SASL_SSL and
PostgreSQL TLS from scripts/services, nginx-light serving the sites; everything on the same $(nproc) cores)

| measure | value | target |
| --- | ---: | ---: |
| disk buffer alone: CPU per record, disk minus memory (counting_source -> stdout_sink, 200,000 records, twice each) | $rec_us µs | <= 15 µs |
| producer as shipped, 1,000 checks/s, CPU per check, \`buffer: memory\` (reference), two ${CPU_WINDOW} s windows | ${mem[0]}, ${mem[1]} µs | |
| the same with \`buffer: disk\`, windows alternated with the above | ${dsk[0]}, ${dsk[1]} µs | |
| difference of the means (the shared machine's noise is larger than the buffer) | $added µs | <= 15 µs |
| Kafka outage (SIGKILL, then started) | ${OUTAGE} s | |
| records in the buffer when Kafka came back | $held | |
| buffer peak (pages in its file) | $(py "round($peak / 2**20, 1)") MiB | |
| drain after Kafka was back, checking on | $drain_s s, $drain_rate records/s = ${ratio}x the check rate | >= 20x |
| slot coverage in PostgreSQL over the run ($SITES sites every 10 s) | $coverage% ($covered of $expected) | |
| duplicates | $dups | 0 |
| check -> row latency at $lat_rate checks/s (10,000 sites every 1 s), p50 | $lat_p50 ms | <= 250 ms |
| p99 | $lat_p99 ms | <= 1,000 ms |
| max | $lat_max ms | |

Latency runs from a check's end (\`timestamp\` + \`response_time\`) to its row's \`clock_timestamp()\`
at insert (a column the bench adds to its own database; the commit follows in the same write).

EOF
)
echo "$report"
if (( ! QUICK )); then
  printf '%s\n\n' "$report" >> "$ROOT/bench/RESULTS.md"
fi
