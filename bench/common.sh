# SPDX-License-Identifier: Apache-2.0
# Sourced by the benchmarks: process readings from /proc and the local nginx they check.
# Expects WORK (a scratch directory) and PIDS (an array the caller's cleanup kills) to be set.

# CPU seconds (user+sys) a process has used so far, from /proc/<pid>/stat.
cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.3f", ($14+$15)/hz}' "/proc/$1/stat"; }
rss_mib() { awk '/VmHWM/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }      # peak
rss_now_mib() { awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }  # at this moment
now() { date +%s.%N; }

# start_nginx PORT: nginx on 127.0.0.1:PORT serving a 10 KB page with <title>Vigil bench</title>,
# one worker per core; sets PAGE to its URL. Installs nginx-light if it is missing.
start_nginx() {
  command -v nginx >/dev/null ||
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx-light >/dev/null
  mkdir -p "$WORK/www" "$WORK/nginx"
  chmod 755 "$WORK" "$WORK/www"  # nginx workers run as www-data
  python3 -c "import sys; sys.stdout.write('<html><title>Vigil bench</title><body>' + 'x'*10180 + '</body></html>')" \
    > "$WORK/www/page.html"
  cat > "$WORK/nginx/nginx.conf" <<CONF
worker_processes auto;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 100000;
  server { listen 127.0.0.1:$1 backlog=4096; root $WORK/www; }
}
CONF
  nginx -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx" -g "daemon on;"
  PIDS+=("$(cat "$WORK/nginx/nginx.pid")")
  PAGE="http://127.0.0.1:$1/page.html"
  curl -fsS -o /dev/null "$PAGE"
}

# sites_json N FILE: N sites named site-0... checking $PAGE with a regex, as a JSON list.
sites_json() {
  python3 -c "import json,sys; print(json.dumps([{'name': f'site-{i}', 'url': sys.argv[2], 'regex': 'Vigil bench'} for i in range(int(sys.argv[1]))]))" \
    "$1" "$PAGE" > "$2"
}
