# SPDX-License-Identifier: Apache-2.0
# Sourced by scripts/services (not run on its own).
# Settings every part reads (ports, users, where state lives) and the helpers they share.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
STATE="${VIGIL_SERVICES_DIR:-$ROOT/.services}"
CACHE="${VIGIL_CACHE_DIR:-${HOME:-/root}/.cache/vigil}"
KAFKA_VERSION="4.1.1"
KAFKA_LIBS="$CACHE/kafka-$KAFKA_VERSION-$(sha1sum "$ROOT/scripts/kafka/pom.xml" | cut -c1-8)/libs"
KAFKA_PORT="${VIGIL_KAFKA_PORT:-19092}"
KAFKA_SASL_PORT="${VIGIL_KAFKA_SASL_PORT:-19093}"
KAFKA_CONTROLLER_PORT="${VIGIL_KAFKA_CONTROLLER_PORT:-19094}"
KAFKA_MTLS_PORT="${VIGIL_KAFKA_MTLS_PORT:-19095}"
# The principal Kafka derives from the client certificate on the mutual-TLS listener.
KAFKA_MTLS_SUBJECT="CN=vigil-client"
PG_PORT="${VIGIL_PG_PORT:-15432}"
AM_PORT="${VIGIL_ALERTMANAGER_PORT:-19193}"
REGISTRY_PORT="${VIGIL_REGISTRY_PORT:-18081}"
DNS_PORT="${VIGIL_DNS_PORT:-15353}"
PG_BIN="/usr/lib/postgresql/15/bin"
KAFKA_USER="vigil"
KAFKA_PASSWORD="vigil-secret"
# SASL users for authorization failures, live: `denied` has no rights but those a test grants
# it; `nobody` is never granted anything.
KAFKA_DENIED_USER="denied"
KAFKA_DENIED_PASSWORD="denied-secret"
KAFKA_NOBODY_USER="nobody"
KAFKA_NOBODY_PASSWORD="nobody-secret"
PG_USER="vigil"
PG_PASSWORD="vigil-secret"
PG_DB="vigil"

say() { echo "services: $*" >&2; }
die() { echo "services: error: $*" >&2; exit 1; }

now_ms() { date +%s%3N; }

# wait_until SECONDS DESCRIPTION COMMAND...: polls COMMAND (output discarded) every 0.1 s until it
# succeeds, then says "DESCRIPTION ready" unless DESCRIPTION is empty; fails once SECONDS pass.
wait_until() {
  local seconds="$1" what="$2"
  shift 2
  local deadline=$(( $(now_ms) + seconds * 1000 ))
  until "$@" >/dev/null 2>&1; do
    if (( $(now_ms) >= deadline )); then
      return 1
    fi
    sleep 0.1
  done
  if [[ -n "$what" ]]; then
    say "$what ready"
  fi
}

# For wait_until: a process, or every process of a session, has exited.
process_gone() { ! kill -0 "$1" 2>/dev/null; }
session_gone() { ! pgrep -s "$1" >/dev/null 2>&1; }
