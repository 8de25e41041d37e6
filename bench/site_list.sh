#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# bench/site_list.sh [--quick]
#
# How fast a long site list loads (issue 30): a JSON list of N sites (name, url, regex; 1,000,000,
# 100,000 with --quick) read by `agent --check-config`, and by the running agent until its first
# check is due (its log line "checking N sites", written when the schedule starts), beside a reference in the same run: Python's
# json module (C-accelerated) loading the same file, the least any reader of it must do.
# Reports wall and CPU seconds, µs per site, the peak RSS, and the steady RSS per site above an
# agent with one site; appends them with this command to bench/RESULTS.md.
# Needs: a built agent. Nothing is checked over the network: the sites point at a closed port
# and the interval (10 min) lets only the first few start.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
AGENT="${VIGIL_AGENT:-$ROOT/build/bin/agent}"
N=1000000
[[ "${1:-}" == "--quick" ]] && N=100000
WORK="$(mktemp -d /tmp/vigil-bench-XXXXXX)"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT
source "$ROOT/bench/common.sh"
[[ -x "$AGENT" ]] || { echo "build the agent first (cmake --build build)" >&2; exit 1; }

PAGE="http://127.0.0.1:9/page.html"  # discard port: nothing listens
sites_json "$N" "$WORK/sites.json"
sites_json 1 "$WORK/one.json"
pipeline() {  # pipeline SITES_FILE OUT
  cat <<YAML
pipeline: bench
source:
  plugin: http_check
  sites_file: $1
  interval: 10m
  timeout: 5s
  max_concurrency: 64
sinks:
  - plugin: stdout_sink
    path: $2
YAML
}
pipeline "$WORK/sites.json" "$WORK/out.jsonl" > "$WORK/p.yaml"
pipeline "$WORK/one.json" "$WORK/one.jsonl" > "$WORK/one.yaml"
bytes=$(stat -c %s "$WORK/sites.json")

# Reference: the file loaded by Python's json module.
/usr/bin/time -f "%e %U %S %M" -o "$WORK/py.time" python3 -c "import json,sys; json.load(open(sys.argv[1]))" \
  "$WORK/sites.json"
read -r py_wall py_u py_s py_rss < "$WORK/py.time"

/usr/bin/time -f "%e %U %S %M" -o "$WORK/cc.time" "$AGENT" --check-config --pipeline "$WORK/p.yaml" >/dev/null
read -r cc_wall cc_u cc_s cc_rss < "$WORK/cc.time"

# The running agent: seconds from its start to its schedule's start (the sites' first checks are
# spread over the interval, so the first record may be minutes later by design).
steady_rss() {  # steady_rss PIPELINE: starts the agent, waits for the schedule, prints "first_s rss_mib"
  local start pid deadline
  start=$(now)
  "$AGENT" --pipeline "$1" >/dev/null 2>"$WORK/agent.log" &
  pid=$!
  PIDS+=("$pid")
  deadline=$(( $(date +%s) + 300 ))
  until grep -q "\] checking [0-9]* sites" "$WORK/agent.log"; do
    # This runs in a subshell (read < <(...)): the EXIT trap's PIDS never sees $pid, so stop it here.
    (( $(date +%s) < deadline )) || { echo "not checking within 300 s" >&2; tail "$WORK/agent.log" >&2; kill "$pid"; exit 1; }
    sleep 0.05
  done
  local first
  first=$(python3 -c "print(round($(now) - $start, 2))")
  sleep 3  # what was freed after the load is given back to malloc's arenas by now
  echo "$first $(rss_now_mib "$pid")"
  kill -INT "$pid"
  wait "$pid" || true
}
read -r one_first one_rss < <(steady_rss "$WORK/one.yaml")
read -r first rss < <(steady_rss "$WORK/p.yaml")

us_site=$(python3 -c "print(round(($cc_u+$cc_s)*1e6/$N, 2))")
py_us=$(python3 -c "print(round(($py_u+$py_s)*1e6/$N, 2))")
per_site=$(python3 -c "print(round(($rss-$one_rss)*1048576/$N))")
ratio=$(python3 -c "print(round($cc_wall/max($py_wall,0.01), 2))")
report="### Site list load — $(date -u +%Y-%m-%dT%H:%M:%SZ) — $(nproc) cores, $(uname -r)

Command: \`bench/site_list.sh${1:+ $1}\` ($N sites, name/url/regex each, $(( bytes / 1048576 )) MiB of JSON)

| run | wall s | CPU µs per site | peak RSS MiB | checking begins after s | steady RSS B per site |
| --- | ---: | ---: | ---: | ---: | ---: |
| python3 json.load of the file (reference) | $py_wall | $py_us | $(( py_rss / 1024 )) | | |
| agent --check-config | $cc_wall | $us_site | $(( cc_rss / 1024 )) | | |
| agent running (one site: checking after $one_first s, $one_rss MiB) | | | | $first | $per_site |

Ratio: --check-config takes ${ratio}x Python's json.load of the same file (targets: <= 5 s and a
first check <= 5 s after start at 1,000,000 sites; <= 512 B per site)."
echo "$report"
if [[ "${1:-}" != "--quick" ]]; then
  printf '%s\n\n' "$report" >> "$ROOT/bench/RESULTS.md"
fi
