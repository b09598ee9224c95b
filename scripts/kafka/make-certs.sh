#!/usr/bin/env bash
# Makes a private certificate authority and the certificates a TLS test broker and its clients need, with
# openssl, into DIR (created; files already there are replaced):
#
#   ca.crt, ca.key            the authority (self-signed); clients trust ca.crt, the broker trusts it for client certs
#   broker.crt, broker.key    the broker's certificate, for 127.0.0.1, localhost and kafka.herald.test
#   broker.pem                broker.key + broker.crt + ca.crt: the PEM keystore Kafka reads (ssl.keystore.type=PEM)
#   client.crt, client.key    a client certificate (CN=herald-client) for listeners that require one
#
#   scripts/kafka/make-certs.sh DIR
#
# Every run makes a new authority: two directories made by two runs do not trust each other, which is how the
# tests get an authority the broker does not know. Keys are unencrypted PKCS#8, for test brokers only.
set -euo pipefail

dir=${1:?usage: make-certs.sh DIR}
mkdir -p "$dir"
cd "$dir"
days=30
# The authority's name is unique per run, so that a certificate of one run never looks like one of another.
serial=$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')

openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days "$days" \
  -subj "/CN=Herald test CA $serial" -addext basicConstraints=critical,CA:TRUE \
  -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null

# $1: name, $2: subject, $3: extensions (one per line, openssl x509 -extfile syntax)
issue() {
  openssl req -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "$2" 2>/dev/null
  printf '%s\n' "$3" >"$1.ext"
  openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -out "$1.crt" -days "$days" \
    -extfile "$1.ext" 2>/dev/null
  rm -f "$1.csr" "$1.ext"
}

# The broker's certificate serves its listeners and, on the SSL listener, is also its own client certificate.
issue broker "/CN=kafka.herald.test" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth,clientAuth
subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kafka.herald.test"
issue client "/CN=herald-client" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth"
rm -f ca.srl

cat broker.key broker.crt ca.crt >broker.pem
chmod 600 ./*.key broker.pem
