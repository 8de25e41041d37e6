# SPDX-License-Identifier: Apache-2.0
# Sourced by scripts/services (not run on its own).
# PostgreSQL 15 from Debian: a throwaway cluster with TLS on.
pg_dir() {
  # PostgreSQL runs as the postgres user, which must be able to reach its data directory. If the
  # repository sits somewhere it cannot traverse (a home directory), use a directory under
  # /var/tmp named after the repository instead.
  local dir="$STATE/pg"
  mkdir -p "$STATE"
  if [[ $(id -u) -eq 0 ]] && ! runuser -u postgres -- test -x "$STATE" 2>/dev/null; then
    chmod o+x "$STATE" 2>/dev/null || true
    if ! runuser -u postgres -- test -x "$STATE" 2>/dev/null; then
      dir="/var/tmp/vigil-pg-$(echo -n "$STATE" | sha1sum | cut -c1-12)"
    fi
  fi
  echo "$dir"
}

pg_as() {
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

pg_running() {
  local dir
  dir=$(pg_dir)
  [[ -f "$dir/data/postmaster.pid" ]] && pg_as "$PG_BIN/pg_ctl" -D "$dir/data" status >/dev/null 2>&1
}

pg_ready() {
  PGPASSWORD="$PG_PASSWORD" psql "host=127.0.0.1 port=$PG_PORT user=$PG_USER dbname=$PG_DB sslmode=verify-full sslrootcert=$STATE/certs/ca.pem" \
    -Atqc "select 1" >/dev/null 2>&1
}

pg_up() {
  local dir t0
  dir=$(pg_dir)
  t0=$(now_ms)
  if pg_running; then
    return 0
  fi
  mkdir -p "$dir"
  if [[ $(id -u) -eq 0 ]]; then chown postgres:postgres "$dir"; fi
  if [[ ! -f "$dir/data/PG_VERSION" ]]; then
    say "creating a PostgreSQL 15 cluster in $dir/data"
    pg_as "$PG_BIN/initdb" -D "$dir/data" -U postgres -E UTF8 --locale=C.UTF-8 \
      --auth-local=trust --auth-host=scram-sha-256 >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
    cp "$STATE/certs/server.pem" "$dir/data/server.crt"
    cp "$STATE/certs/server.key" "$dir/data/server.key"
    cp "$STATE/certs/ca.pem" "$dir/data/root.crt"
    if [[ $(id -u) -eq 0 ]]; then chown postgres:postgres "$dir/data/server.crt" "$dir/data/server.key" "$dir/data/root.crt"; fi
    chmod 600 "$dir/data/server.key"
    mkdir -p "$dir/sock"
    if [[ $(id -u) -eq 0 ]]; then chown postgres:postgres "$dir/sock"; fi
    cat >> "$dir/data/postgresql.conf" <<EOF
# --- Vigil dev services ---
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$dir/sock'
ssl = on
ssl_cert_file = 'server.crt'
ssl_key_file = 'server.key'
ssl_ca_file = 'root.crt'
max_connections = 200
log_min_messages = warning
EOF
    cat > "$dir/data/pg_hba.conf" <<EOF
local all all trust
host all all 127.0.0.1/32 scram-sha-256
host all all ::1/128 scram-sha-256
EOF
  fi
  say "starting PostgreSQL 15 on 127.0.0.1:$PG_PORT (TLS on)"
  pg_as "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null \
    || { tail -20 "$dir/server.log" >&2; die "PostgreSQL did not start (log: $dir/server.log)"; }
  pg_as psql -h "$dir/sock" -p "$PG_PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -q <<EOF >/dev/null
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$PG_USER') THEN
    CREATE ROLE $PG_USER LOGIN CREATEDB PASSWORD '$PG_PASSWORD';
  END IF;
END \$\$;
-- CREATEROLE: the status page's tests make a read-only role of their own (status/README.md).
ALTER ROLE $PG_USER CREATEROLE;
SELECT 'CREATE DATABASE $PG_DB OWNER $PG_USER' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$PG_DB')\gexec
EOF
  wait_until 30 "PostgreSQL (TLS, verify-full)" pg_ready || die "PostgreSQL does not answer over TLS"
  say "PostgreSQL up in $(( $(now_ms) - t0 )) ms"
}

pg_down() {
  local dir
  dir=$(pg_dir)
  if pg_running; then
    say "stopping PostgreSQL"
    pg_as "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null
  fi
}

