#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# bench/json.sh: what reading untrusted JSON safely costs (issue 26). Builds bench/json/json_bench
# (it installs Debian's libsimdjson-dev, for the comparison only) and runs it once: per document,
# RapidJSON's parse as Vigil called it before the guarded reader (the reference), the guarded
# reader (lib/json), and simdjson 3.0.1's DOM parser, on a health body judged by a json
# assertion, a 64 KiB API body, and a Kafka record decoded and validated. Appends the table and
# this command to bench/RESULTS.md. Needs a built tree (build/).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${VIGIL_BUILD_DIR:-$ROOT/build}"
if ! dpkg-query -W -f='${Status}' libsimdjson-dev 2>/dev/null | grep -q "install ok installed"; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libsimdjson-dev >/dev/null
fi
cmake -S "$ROOT" -B "$BUILD" >/dev/null
cmake --build "$BUILD" -j2 --target json_bench | tail -1
table="$("$BUILD/bin/json_bench")"
echo "$table"
{
  echo
  echo "## Untrusted JSON: the guarded reader against RapidJSON alone and simdjson ($(date -u +%Y-%m-%d))"
  echo
  echo "Command: \`bench/json.sh\` ($(nproc) cores, $(uname -m), Release build; each cell about 1.5 s of one core)"
  echo
  echo "$table"
} >> "$ROOT/bench/RESULTS.md"
