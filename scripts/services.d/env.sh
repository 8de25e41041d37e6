# SPDX-License-Identifier: Apache-2.0
# Sourced by scripts/services (not run on its own).
# What `env` prints and `status` reports.
env_lines() {
  # PLAIN, not SCRAM-SHA-512: Debian 12's librdkafka 2.0.2 cannot do SCRAM with a Kafka 4 broker
  # (librdkafka #4895). The SCRAM user exists for clients that can (KAFKA_SASL_MECHANISM=SCRAM-SHA-512).
  cat <<EOF
export KAFKA_BOOTSTRAP_SERVERS='localhost:$KAFKA_SASL_PORT'
export KAFKA_SECURITY_PROTOCOL='SASL_SSL'
export KAFKA_SASL_MECHANISM='PLAIN'
export KAFKA_USERNAME='$KAFKA_USER'
export KAFKA_PASSWORD='$KAFKA_PASSWORD'
export KAFKA_CA_FILE='$STATE/certs/ca.pem'
export KAFKA_PLAINTEXT_BOOTSTRAP_SERVERS='127.0.0.1:$KAFKA_PORT'
export KAFKA_TOPIC='website-metrics'
export KAFKA_CONSUMER_GROUP='vigil-consumer'
export DATABASE_URL='postgresql://$PG_USER:$PG_PASSWORD@127.0.0.1:$PG_PORT/$PG_DB?sslmode=verify-full&sslrootcert=$STATE/certs/ca.pem'
export VIGIL_SERVICES_DIR='$STATE'
export VIGIL_UNTRUSTED_CA_FILE='$STATE/certs/untrusted-ca.pem'
export KAFKA_DENIED_USERNAME='$KAFKA_DENIED_USER'
export KAFKA_DENIED_PASSWORD='$KAFKA_DENIED_PASSWORD'
export KAFKA_NOBODY_USERNAME='$KAFKA_NOBODY_USER'
export KAFKA_NOBODY_PASSWORD='$KAFKA_NOBODY_PASSWORD'
export KAFKA_MTLS_BOOTSTRAP_SERVERS='localhost:$KAFKA_MTLS_PORT'
export KAFKA_CLIENT_CERT_FILE='$STATE/certs/client.pem'
export KAFKA_CLIENT_KEY_FILE='$STATE/certs/client.key'
export ALERTMANAGER_URL='http://127.0.0.1:$AM_PORT'
export SCHEMA_REGISTRY_URL='http://127.0.0.1:$REGISTRY_PORT/apis/ccompat/v7'
export VIGIL_DNS_SERVER='127.0.0.1:$DNS_PORT'
EOF
}

status() {
  local rc=0
  if kafka_pid >/dev/null && kafka_ready_plain; then
    echo "kafka:      up   PLAINTEXT 127.0.0.1:$KAFKA_PORT  SASL_SSL localhost:$KAFKA_SASL_PORT  SSL (mTLS) localhost:$KAFKA_MTLS_PORT  (pid $(kafka_pid))"
  else
    echo "kafka:      down"
    rc=3
  fi
  if pg_running && pg_ready; then
    echo "postgresql: up   127.0.0.1:$PG_PORT (TLS)  data $(pg_dir)/data"
  else
    echo "postgresql: down"
    rc=3
  fi
  if am_pid >/dev/null && am_ready; then
    echo "alertmanager: up 127.0.0.1:$AM_PORT  (pid $(am_pid))"
  else
    echo "alertmanager: down"
    rc=3
  fi
  if registry_pid >/dev/null && registry_ready; then
    echo "registry:   up   http://127.0.0.1:$REGISTRY_PORT/apis/ccompat/v7  (pid $(registry_pid))"
  else
    echo "registry:   down"
    rc=3
  fi
  if dns_pid >/dev/null && dns_ready; then
    echo "dns:        up   127.0.0.1:$DNS_PORT (nsd, zone vigil.test)  (pid $(dns_pid))"
  else
    echo "dns:        down"
    rc=3
  fi
  return $rc
}

