#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# bench/http_check_ab.sh [BASE_REF]
#
# What http_check's newer options cost a site that uses none of them: this tree's agent against
# the agent built from BASE_REF (default 0a07978, the last commit before issue 15's options), in
# one invocation, against one local nginx serving a 10 KB page. Sites have a `regex` only.
#   - CPU per check: each agent checks the same 10,000 sites once (--once, 64 in flight), five
#     rounds each, alternating A B A B ... so drift of the machine hits both alike; user+sys of the
#     run minus that of loading the list (--check-config), divided by the checks. Median of five.
#   - Instructions per check (valgrind --tool=callgrind, user space, repeatable): 1,000 sites once,
#     minus the instructions of --check-config on the same list.
# Appends a table with this command to bench/RESULTS.md. Needs nginx-light and valgrind (installed
# here if missing); builds BASE_REF in a temporary git worktree (about 3 minutes on 2 cores).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BASE_REF="${1:-0a07978}"
HEAD_AGENT="${VIGIL_AGENT:-$ROOT/build/bin/agent}"
ROUNDS=5
SITES=10000
CG_SITES=1000
NGINX_PORT=18081
WORK="$(mktemp -d /tmp/vigil-ab-XXXXXX)"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  git -C "$ROOT" worktree remove --force "$WORK/base" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

source "$ROOT/bench/common.sh"
command -v valgrind >/dev/null ||
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends valgrind >/dev/null
[[ -x "$HEAD_AGENT" ]] || { echo "build the agent first (cmake --build build)" >&2; exit 1; }

echo "==> building $BASE_REF in a worktree" >&2
git -C "$ROOT" worktree add --detach -q "$WORK/base" "$BASE_REF"
cmake -S "$WORK/base" -B "$WORK/base/build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DVIGIL_BUILD_TESTS=OFF >/dev/null
cmake --build "$WORK/base/build" -j2 --target agent http_check stdout_sink >/dev/null
BASE_AGENT="$WORK/base/build/bin/agent"

start_nginx "$NGINX_PORT"

setup() {  # setup N NAME: a sites file of N sites and a pipeline checking them once
  sites_json "$1" "$WORK/$2.json"
  cat > "$WORK/$2.yaml" <<EOF
pipeline: ab
source: {plugin: http_check, sites_file: $WORK/$2.json, interval: 1h, timeout: 5s, max_concurrency: 64, batch_size: 2000}
sinks: [{plugin: stdout_sink, path: $WORK/$2.jsonl}]
EOF
}
setup "$SITES" run
setup "$CG_SITES" cg

cpu_us_per_check() {  # cpu_us_per_check AGENT: one round, CPU µs per check of the checking alone
  local agent="$1"
  rm -f "$WORK/run.jsonl"
  /usr/bin/time -f "%U %S" -o "$WORK/load.time" "$agent" --check-config --pipeline "$WORK/run.yaml" >/dev/null 2>&1
  /usr/bin/time -f "%U %S" -o "$WORK/run.time" "$agent" --once --log-level warn --pipeline "$WORK/run.yaml"
  local ok
  ok=$(grep -c '"ok":true' "$WORK/run.jsonl")
  [[ "$ok" == "$SITES" ]] || { echo "only $ok of $SITES checks passed" >&2; exit 1; }
  read -r lu ls < "$WORK/load.time"
  read -r ru rs < "$WORK/run.time"
  python3 -c "print(round(($ru+$rs-$lu-$ls)*1e6/$SITES, 1))"
}

base_runs=() head_runs=()
for i in $(seq "$ROUNDS"); do
  echo "==> round $i of $ROUNDS" >&2
  base_runs+=("$(cpu_us_per_check "$BASE_AGENT")")
  head_runs+=("$(cpu_us_per_check "$HEAD_AGENT")")
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
base_us=$(median "${base_runs[@]}")
head_us=$(median "${head_runs[@]}")

instructions() {  # instructions AGENT ARGS...: user-space instructions callgrind counted
  local out="$WORK/cg.out"
  valgrind --tool=callgrind --callgrind-out-file="$out" "$@" >/dev/null 2>&1
  callgrind_annotate "$out" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}'
}
ir_per_check() {  # ir_per_check AGENT
  local load run
  load=$(instructions "$1" --check-config --pipeline "$WORK/cg.yaml")
  run=$(instructions "$1" --once --log-level warn --pipeline "$WORK/cg.yaml")
  python3 -c "print(round(($run - $load) / $CG_SITES))"
}
echo "==> callgrind" >&2
base_ir=$(ir_per_check "$BASE_AGENT")
head_ir=$(ir_per_check "$HEAD_AGENT")

cpu_ratio=$(python3 -c "print(round($head_us / $base_us * 100, 1))")
ir_ratio=$(python3 -c "print(round($head_ir / $base_ir * 100, 1))")
report=$(cat <<EOF
### http_check A/B: $(git -C "$ROOT" rev-parse --short HEAD) against $BASE_REF, sites using none of the new options — $(date -u +%Y-%m-%dT%H:%M:%SZ) — $(nproc) cores

Command: \`bench/http_check_ab.sh${1:+ $1}\` (nginx-light, 10 KB page, sites with a \`regex\` only, 64 in flight)

| agent | CPU µs per check, median of $ROUNDS ($SITES checks each) | the $ROUNDS rounds | instructions per check (callgrind, $CG_SITES checks) |
| --- | ---: | --- | ---: |
| base $BASE_REF | $base_us | ${base_runs[*]} | $base_ir |
| this tree | $head_us | ${head_runs[*]} | $head_ir |

This tree spends ${cpu_ratio}% of the base's CPU per check and ${ir_ratio}% of its user-space
instructions per check (target: at most 105%). Rounds alternate base and this tree, so a machine
that slows down mid-run slows both.

EOF
)
echo "$report"
printf '%s\n\n' "$report" >> "$ROOT/bench/RESULTS.md"
