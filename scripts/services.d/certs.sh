# SPDX-License-Identifier: Apache-2.0
# Sourced by scripts/services (not run on its own).
# Certificates: one CA signs the broker's and the database's certificate (localhost, 127.0.0.1)
# and a client certificate for the broker's mutual-TLS listener
certs() {
  server_certs
  client_cert
}

server_certs() {
  local dir="$STATE/certs"
  [[ -f "$dir/server.pem" && -f "$dir/ca.pem" ]] && return 0
  mkdir -p "$dir"
  say "making a CA and a server certificate with openssl in $dir"
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=Vigil dev CA" \
    -keyout "$dir/ca.key" -out "$dir/ca.pem" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
    -keyout "$dir/server.key" -out "$dir/server.csr" 2>/dev/null
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' > "$dir/server.ext"
  openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
    -CAcreateserial -days 3650 -extfile "$dir/server.ext" -out "$dir/server.pem" 2>/dev/null
  # Kafka's PEM keystore wants the PKCS#8 key followed by the certificate chain in one file.
  openssl pkcs8 -topk8 -nocrypt -in "$dir/server.key" -out "$dir/server.pk8"
  cat "$dir/server.pk8" "$dir/server.pem" > "$dir/kafka-keystore.pem"
  # A second, unrelated CA: tests use it to prove an untrusted server is refused.
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=Untrusted CA" \
    -keyout "$dir/untrusted-ca.key" -out "$dir/untrusted-ca.pem" 2>/dev/null
  chmod 600 "$dir"/*.key "$dir/server.pk8" "$dir/kafka-keystore.pem"
  chmod 644 "$dir/ca.pem" "$dir/untrusted-ca.pem" "$dir/server.pem"
}

# A client certificate from the same CA, for the mutual-TLS listener (made on its own so that
# state from before it existed gains one).
client_cert() {
  local dir="$STATE/certs"
  [[ -f "$dir/client.pem" ]] && return 0
  openssl req -newkey rsa:2048 -nodes -subj "/$KAFKA_MTLS_SUBJECT" \
    -keyout "$dir/client.key" -out "$dir/client.csr" 2>/dev/null
  printf 'extendedKeyUsage=clientAuth\n' > "$dir/client.ext"
  openssl x509 -req -in "$dir/client.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
    -CAcreateserial -days 3650 -extfile "$dir/client.ext" -out "$dir/client.pem" 2>/dev/null
  chmod 600 "$dir/client.key"
  chmod 644 "$dir/client.pem"
}

