# SPDX-License-Identifier: Apache-2.0
# Sourced by scripts/services (not run on its own).
# An authoritative DNS server from Debian (nsd) on 127.0.0.1, UDP and TCP, serving dns_check's
# fixture zone (plugins/dns_check/tests/vigil.test.zone): the demo's DNS sites and the
# dns_check benchmark ask it. broken.test is configured without a zone file, so nsd answers
# SERVFAIL for it; any other name is REFUSED. dns_check's tests start an nsd of their own.
NSD_BIN="/usr/sbin/nsd"

dns_pid() {
  local f="$STATE/dns/nsd.pid"
  [[ -f "$f" ]] && kill -0 "$(cat "$f")" 2>/dev/null && cat "$f"
}

# A SOA query for vigil.test answered over UDP.
dns_ready() {
  /usr/bin/python3 - "$DNS_PORT" <<'PY'
import socket, sys
q = bytes.fromhex("123401000001000000000000") + b"\x05vigil\x04test\x00" + bytes.fromhex("00060001")
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(0.5)
try:
    s.sendto(q, ("127.0.0.1", int(sys.argv[1])))
    sys.exit(0 if len(s.recv(512)) > 12 else 1)
except OSError:
    sys.exit(1)
PY
}

dns_up() {
  local dir="$STATE/dns" t0
  t0=$(now_ms)
  if dns_pid >/dev/null && dns_ready; then
    return 0
  fi
  [[ -x "$NSD_BIN" ]] || die "$NSD_BIN is missing: run scripts/install-deps (Debian's nsd)"
  mkdir -p "$dir"
  cat > "$dir/nsd.conf" <<CONF
# Written by scripts/services.
server:
  ip-address: 127.0.0.1
  port: $DNS_PORT
  username: ""
  chroot: ""
  zonesdir: "$dir"
  pidfile: "$dir/nsd.pid"
  zonelistfile: "$dir/zone.list"
  xfrdfile: "$dir/xfrd.state"
  xfrdir: "$dir"
  logfile: "$dir/nsd.log"
  server-count: 1
  verbosity: 1
  # No response rate limiting: the benchmark's burst comes from one address.
  rrl-ratelimit: 0
remote-control:
  control-enable: no
zone:
  name: vigil.test
  zonefile: "$ROOT/plugins/dns_check/tests/vigil.test.zone"
zone:
  name: broken.test
  zonefile: "$dir/absent.zone"
CONF
  say "starting nsd on 127.0.0.1:$DNS_PORT (zone vigil.test)"
  setsid nohup "$NSD_BIN" -d -c "$dir/nsd.conf" > "$dir/nsd.out" 2>&1 < /dev/null &
  if ! wait_until 30 "nsd" dns_ready; then
    tail -20 "$dir/nsd.log" "$dir/nsd.out" >&2 || true
    die "nsd did not answer within 30 s (log: $dir/nsd.log)"
  fi
  say "nsd up in $(( $(now_ms) - t0 )) ms"
}

dns_down() {
  local pid
  if ! pid=$(dns_pid); then
    rm -f "$STATE/dns/nsd.pid"
    return 0
  fi
  say "stopping nsd (pid $pid)"
  # SIGTERM: nsd stops its server processes with it.
  kill -TERM "$pid" 2>/dev/null || true
  if ! wait_until 30 "" process_gone "$pid"; then
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$STATE/dns/nsd.pid"
}
