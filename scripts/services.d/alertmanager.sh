# SPDX-License-Identifier: Apache-2.0
# Sourced by scripts/services (not run on its own).
# Prometheus Alertmanager from Debian (prometheus-alertmanager): one node, clustering off, on
# 127.0.0.1. Its one receiver discards notifications: the tests and the demo read the alerts
# it holds through its API (and amtool), which is what an alert router's state is.
AM_BIN="/usr/bin/prometheus-alertmanager"

am_pid() {
  local f="$STATE/alertmanager/alertmanager.pid"
  [[ -f "$f" ]] && kill -0 "$(cat "$f")" 2>/dev/null && cat "$f"
}

am_ready() { curl -fsS "http://127.0.0.1:$AM_PORT/-/ready" >/dev/null; }

am_up() {
  local dir="$STATE/alertmanager" t0
  t0=$(now_ms)
  if am_pid >/dev/null && am_ready; then
    return 0
  fi
  [[ -x "$AM_BIN" ]] || die "$AM_BIN is missing: run scripts/install-deps (Debian's prometheus-alertmanager)"
  mkdir -p "$dir/data"
  cat > "$dir/alertmanager.yml" <<YAML
# Written by scripts/services. Alerts are grouped per site and held; nothing is sent anywhere.
route:
  receiver: hold
  group_by: [alertname, site]
  group_wait: 1s
  group_interval: 5s
  repeat_interval: 1h
receivers:
  - name: hold
YAML
  say "starting Alertmanager on 127.0.0.1:$AM_PORT"
  # setsid: like Kafka, it must outlive this script and not get the terminal's SIGINT.
  setsid nohup "$AM_BIN" --config.file="$dir/alertmanager.yml" --storage.path="$dir/data" \
    --web.listen-address="127.0.0.1:$AM_PORT" --cluster.listen-address= \
    >"$dir/alertmanager.log" 2>&1 < /dev/null &
  echo $! > "$dir/alertmanager.pid"
  if ! wait_until 30 "Alertmanager" am_ready; then
    tail -20 "$dir/alertmanager.log" >&2 || true
    die "Alertmanager did not answer within 30 s (log: $dir/alertmanager.log)"
  fi
  say "Alertmanager up in $(( $(now_ms) - t0 )) ms"
}

am_down() {
  local pid
  if ! pid=$(am_pid); then
    rm -f "$STATE/alertmanager/alertmanager.pid"
    return 0
  fi
  say "stopping Alertmanager (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  if ! wait_until 30 "" process_gone "$pid"; then
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$STATE/alertmanager/alertmanager.pid"
}

am_kill() {
  local pid
  if pid=$(am_pid); then
    kill -KILL "$pid" 2>/dev/null || true
    wait_until 10 "" process_gone "$pid" || true
  fi
}
