# SPDX-License-Identifier: Apache-2.0
# Sourced by scripts/services (not run on its own).
# Kafka: one KRaft node from the Maven Central jars, three client listeners, ACLs on.
kafka_pid() {
  local f="$STATE/kafka/kafka.pid"
  [[ -f "$f" ]] && kill -0 "$(cat "$f")" 2>/dev/null && cat "$f"
}

kafka_fetch() {
  if [[ -f "$KAFKA_LIBS/.complete" ]]; then
    return 0
  fi
  say "fetching Kafka $KAFKA_VERSION jars with Maven (once) into $KAFKA_LIBS"
  mkdir -p "$KAFKA_LIBS"
  mvn -q -B -f "$ROOT/scripts/kafka/pom.xml" -Dkafka.version="$KAFKA_VERSION" \
    dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$KAFKA_LIBS" >&2 \
    || die "Maven could not fetch the Kafka jars (see above)"
  touch "$KAFKA_LIBS/.complete"
}

kafka_java() {
  local main="$1"
  shift
  java -Xms256m -Xmx768m -XX:+UseG1GC -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$STATE/kafka/log4j2.properties" \
    -Dkafka.logs.dir="$STATE/kafka/logs" \
    -cp "$KAFKA_LIBS/*" "$main" "$@"
}

kafka_config() {
  local dir="$STATE/kafka"
  mkdir -p "$dir/logs"
  cat > "$dir/log4j2.properties" <<EOF
status = warn
appender.file.type = File
appender.file.name = file
appender.file.fileName = $dir/logs/server.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = file
logger.kafka.name = kafka
logger.kafka.level = INFO
logger.state.name = state.change.logger
logger.state.level = WARN
EOF
  cat > "$dir/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,SASL_SSL://127.0.0.1:$KAFKA_SASL_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT,SSL://127.0.0.1:$KAFKA_MTLS_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,SASL_SSL://localhost:$KAFKA_SASL_PORT,SSL://localhost:$KAFKA_MTLS_PORT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT,SSL:SSL
listener.name.ssl.ssl.client.auth=required
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
log.dirs=$dir/data
num.partitions=3
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
sasl.enabled.mechanisms=SCRAM-SHA-512,PLAIN
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_$KAFKA_USER="$KAFKA_PASSWORD" user_$KAFKA_DENIED_USER="$KAFKA_DENIED_PASSWORD" user_$KAFKA_NOBODY_USER="$KAFKA_NOBODY_PASSWORD";
# ACLs on, so authorization failures can be tested live. PLAINTEXT clients and the controller
# (User:ANONYMOUS) and the SASL user are super users: everything else works as without ACLs.
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users=User:ANONYMOUS;User:$KAFKA_USER;User:$KAFKA_MTLS_SUBJECT
ssl.keystore.type=PEM
ssl.keystore.location=$STATE/certs/kafka-keystore.pem
ssl.truststore.type=PEM
ssl.truststore.location=$STATE/certs/ca.pem
EOF
}

kafka_ready_plain() {
  kcat -b "127.0.0.1:$KAFKA_PORT" -L -m 5 >/dev/null 2>&1
}

# SASL_SSL with PLAIN through librdkafka (kcat), the CA verified.
kafka_ready_sasl() {
  kcat -b "localhost:$KAFKA_SASL_PORT" -L -m 5 \
    -X security.protocol=SASL_SSL -X sasl.mechanism=PLAIN \
    -X sasl.username="$KAFKA_USER" -X sasl.password="$KAFKA_PASSWORD" \
    -X ssl.ca.location="$STATE/certs/ca.pem" >/dev/null 2>&1
}

# SSL with a client certificate (mutual TLS) through librdkafka (kcat), the CA verified.
kafka_ready_mtls() {
  kcat -b "localhost:$KAFKA_MTLS_PORT" -L -m 5 -X security.protocol=SSL \
    -X ssl.ca.location="$STATE/certs/ca.pem" -X ssl.certificate.location="$STATE/certs/client.pem" \
    -X ssl.key.location="$STATE/certs/client.key" >/dev/null 2>&1
}

# SASL_SSL with SCRAM-SHA-512 through python3-kafka. Not through librdkafka: Debian 12's
# librdkafka 2.0.2 sends a SCRAM nonce that Kafka 4 rejects (librdkafka #4895, fixed in 2.6.1).
kafka_ready_scram() {
  timeout 30 /usr/bin/python3 - "$KAFKA_SASL_PORT" "$KAFKA_USER" "$KAFKA_PASSWORD" "$STATE/certs/ca.pem" <<'PY'
import ssl, sys
from kafka import KafkaConsumer
port, user, password, ca = sys.argv[1:5]
c = KafkaConsumer(bootstrap_servers=f"localhost:{port}", security_protocol="SASL_SSL",
                  sasl_mechanism="SCRAM-SHA-512", sasl_plain_username=user,
                  sasl_plain_password=password, ssl_context=ssl.create_default_context(cafile=ca),
                  api_version_auto_timeout_ms=10000)
c.topics()
c.close()
PY
}

kafka_up() {
  if kafka_pid >/dev/null; then
    kafka_ready_plain || wait_until 60 "Kafka (PLAINTEXT)" kafka_ready_plain || die "Kafka is running but not answering"
    return 0
  fi
  local t0
  t0=$(now_ms)
  kafka_fetch
  kafka_config
  local dir="$STATE/kafka"
  if [[ ! -f "$dir/data/meta.properties" ]]; then
    local cluster_id
    # Never one that starts with "-" (1 in 64): the storage tool's argument parser takes it for an
    # option ("argument --cluster-id/-t: expected one argument").
    cluster_id=$(python3 -c 'import base64,uuid
while True:
    i = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
    if not i.startswith("-"):
        break
print(i)')
    say "formatting KRaft storage (cluster $cluster_id) with SCRAM user $KAFKA_USER"
    kafka_java kafka.tools.StorageTool format -t "$cluster_id" -c "$dir/server.properties" \
      --add-scram "SCRAM-SHA-512=[name=\"$KAFKA_USER\",password=\"$KAFKA_PASSWORD\"]" >"$dir/logs/format.log" 2>&1 \
      || { cat "$dir/logs/format.log" >&2; die "kafka-storage format failed"; }
  fi
  say "starting Kafka $KAFKA_VERSION on 127.0.0.1:$KAFKA_PORT (PLAINTEXT), :$KAFKA_SASL_PORT (SASL_SSL) and :$KAFKA_MTLS_PORT (SSL, client certificates)"
  # setsid: the broker must not get the terminal's SIGINT, and must outlive this script.
  setsid nohup bash -c "$(declare -f kafka_java); STATE='$STATE' KAFKA_LIBS='$KAFKA_LIBS' \
    kafka_java kafka.Kafka '$dir/server.properties'" >"$dir/logs/stdout.log" 2>&1 < /dev/null &
  echo $! > "$dir/kafka.pid"
  if ! wait_until 90 "Kafka (PLAINTEXT)" kafka_ready_plain; then
    tail -30 "$dir/logs/server.log" "$dir/logs/stdout.log" >&2 || true
    die "Kafka did not answer within 90 s (logs: $dir/logs)"
  fi
  wait_until 30 "Kafka (SASL_SSL, PLAIN)" kafka_ready_sasl || die "Kafka's SASL_SSL listener did not answer (logs: $dir/logs)"
  wait_until 30 "Kafka (SASL_SSL, SCRAM-SHA-512)" kafka_ready_scram || die "Kafka refused the SCRAM-SHA-512 user (logs: $dir/logs)"
  wait_until 30 "Kafka (SSL, client certificate)" kafka_ready_mtls || die "Kafka's mutual-TLS listener did not answer (logs: $dir/logs)"
  say "Kafka up in $(( $(now_ms) - t0 )) ms"
}

kafka_down() {
  local pid
  if ! pid=$(kafka_pid); then
    rm -f "$STATE/kafka/kafka.pid"
    return 0
  fi
  say "stopping Kafka (pid $pid)"
  # The pid is the wrapping bash of a setsid session: signal the whole session.
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  if ! wait_until 30 "" session_gone "$pid"; then
    say "Kafka did not stop in 30 s; killing it"
    pkill -KILL -s "$pid" 2>/dev/null || true
  fi
  rm -f "$STATE/kafka/kafka.pid"
}

