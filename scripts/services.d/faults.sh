# SPDX-License-Identifier: Apache-2.0
# Sourced by scripts/services (not run on its own).
# Faults, for the tests that prove nothing is lost: kill -9 a service, or restart it.
kafka_kill() {
  local pid
  pid=$(kafka_pid) || die "Kafka is not running"
  say "killing Kafka with SIGKILL (session $pid)"
  pkill -KILL -s "$pid" 2>/dev/null || true
  wait_until 30 "" session_gone "$pid" || die "Kafka (session $pid) survived SIGKILL for 30 s"
  rm -f "$STATE/kafka/kafka.pid"
}

pg_kill() {
  local dir pid
  dir=$(pg_dir)
  [[ -f "$dir/data/postmaster.pid" ]] || die "PostgreSQL is not running"
  pid=$(head -1 "$dir/data/postmaster.pid")
  say "killing PostgreSQL with SIGKILL (postmaster $pid and its backends)"
  # The backends would otherwise finish their transactions: kill them all at once, as a crash does.
  pkill -KILL -P "$pid" 2>/dev/null || true
  kill -KILL "$pid" 2>/dev/null || true
  wait_until 30 "" process_gone "$pid" || die "PostgreSQL (postmaster $pid) survived SIGKILL for 30 s"
}

pg_restart() {
  local dir
  dir=$(pg_dir)
  say "restarting PostgreSQL (pg_ctl restart -m fast)"
  pg_as "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -m fast -w -t 60 restart >/dev/null
  wait_until 30 "PostgreSQL (TLS, verify-full)" pg_ready || die "PostgreSQL does not answer after restart"
}

service_arg() {
  case "${1:-}" in
    kafka|postgres) echo "$1" ;;
    *) echo "usage: scripts/services ${2} kafka|postgres" >&2; exit 64 ;;
  esac
}

