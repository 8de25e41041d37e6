# SPDX-License-Identifier: Apache-2.0
# Sourced by scripts/services (not run on its own).
# Apicurio Registry from Maven Central (io.apicurio:apicurio-registry-app, the Quarkus runner in
# its `all` tar.gz), in-memory storage, its Confluent-compatible API under /apis/ccompat/v7.
# Fetched once with Maven into the cache, like the Kafka jars.
REGISTRY_VERSION="3.0.9"
REGISTRY_HOME="$CACHE/apicurio-registry-$REGISTRY_VERSION"

registry_pid() {
  local f="$STATE/registry/registry.pid"
  [[ -f "$f" ]] && kill -0 "$(cat "$f")" 2>/dev/null && cat "$f"
}

registry_ready() { curl -fsS "http://127.0.0.1:$REGISTRY_PORT/apis/ccompat/v7/subjects" >/dev/null; }

registry_fetch() {
  if [[ -f "$REGISTRY_HOME/.complete" ]]; then
    return 0
  fi
  say "fetching Apicurio Registry $REGISTRY_VERSION with Maven (once) into $REGISTRY_HOME"
  mkdir -p "$REGISTRY_HOME"
  mvn -q -B dependency:copy -Dartifact="io.apicurio:apicurio-registry-app:$REGISTRY_VERSION:tar.gz:all" \
    -DoutputDirectory="$REGISTRY_HOME" >&2 || die "Maven could not fetch Apicurio Registry (see above)"
  tar -xzf "$REGISTRY_HOME/apicurio-registry-app-$REGISTRY_VERSION-all.tar.gz" -C "$REGISTRY_HOME"
  rm -f "$REGISTRY_HOME/apicurio-registry-app-$REGISTRY_VERSION-all.tar.gz"
  touch "$REGISTRY_HOME/.complete"
}

registry_up() {
  local dir="$STATE/registry" t0
  t0=$(now_ms)
  if registry_pid >/dev/null && registry_ready; then
    return 0
  fi
  registry_fetch
  mkdir -p "$dir"
  say "starting Apicurio Registry on 127.0.0.1:$REGISTRY_PORT"
  # setsid: like Kafka, it must outlive this script and not get the terminal's SIGINT.
  setsid nohup java -Xms64m -Xmx384m -Djava.awt.headless=true \
    -Dquarkus.http.host=127.0.0.1 -Dquarkus.http.port="$REGISTRY_PORT" \
    -jar "$REGISTRY_HOME/apicurio-registry-app-$REGISTRY_VERSION-runner.jar" \
    >"$dir/registry.log" 2>&1 < /dev/null &
  echo $! > "$dir/registry.pid"
  if ! wait_until 60 "Apicurio Registry" registry_ready; then
    tail -20 "$dir/registry.log" >&2 || true
    die "Apicurio Registry did not answer within 60 s (log: $dir/registry.log)"
  fi
  say "Apicurio Registry up in $(( $(now_ms) - t0 )) ms"
}

registry_down() {
  local pid
  if ! pid=$(registry_pid); then
    rm -f "$STATE/registry/registry.pid"
    return 0
  fi
  say "stopping Apicurio Registry (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  if ! wait_until 30 "" process_gone "$pid"; then
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$STATE/registry/registry.pid"
}

registry_kill() {
  local pid
  if pid=$(registry_pid); then
    kill -KILL "$pid" 2>/dev/null || true
    wait_until 10 "" process_gone "$pid" || true
  fi
}
