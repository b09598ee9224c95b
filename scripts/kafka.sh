#!/usr/bin/env bash
# A single-node Apache Kafka 4 broker (KRaft: no ZooKeeper) on 127.0.0.1 for Herald's tests and development,
# assembled from Apache's own jars on Maven Central: no Docker, and no download from outside package registries.
#
#   scripts/kafka.sh start    fetch the jars (once, cached), format the storage, start the broker in the
#                             background and wait until it answers; prints KAFKA_BROKERS=127.0.0.1:<port>
#   scripts/kafka.sh stop     stop it: TERM, then KILL if it has not exited after KAFKA_STOP_TIMEOUT seconds
#   scripts/kafka.sh status   say whether it runs (exit status 3 when it does not, as LSB init scripts do)
#   scripts/kafka.sh fetch    only fetch the jars (CI does it as a step of its own, so that a failure is plain)
#
# Environment (each instance is named by its port and data directory, so several can run side by side):
#   KAFKA_PORT             client port (default 9092)
#   KAFKA_CONTROLLER_PORT  KRaft controller port (default KAFKA_PORT + 1)
#   KAFKA_DATA_DIR         storage, logs, pid file (default .cache/kafka/data-<port>); kept between runs
#   KAFKA_START_TIMEOUT    seconds to wait for the broker to answer (default 90; the jar download is not counted)
#   KAFKA_STOP_TIMEOUT     seconds to wait after TERM before KILL (default 30)
#   KAFKA_STOP_WITH_PID    stop the broker when this process exits (the test runner passes its own pid)
#   KAFKA_VERSION          another Apache Kafka 4.x than the one in scripts/kafka/pom.xml, e.g. to compare
#   KAFKA_SECURITY         plaintext (the default: one PLAINTEXT listener on KAFKA_PORT) or secured: TLS only, with
#                          SASL_SSL (SCRAM-SHA-512, SCRAM-SHA-256, PLAIN) on KAFKA_PORT and SSL requiring a client
#                          certificate on KAFKA_SSL_PORT (see scripts/kafka/server-secured.properties)
# Secured mode only:
#   KAFKA_SSL_PORT         the SSL listener's port (default KAFKA_PORT + 2)
#   KAFKA_TLS_DIR          the authority and certificates (default KAFKA_DATA_DIR/tls); made by
#                          scripts/kafka/make-certs.sh when it holds no broker.pem yet; clients use its ca.crt,
#                          client.crt and client.key
#   KAFKA_SASL_USERNAME    the SASL user (default herald), given SCRAM credentials when the storage is formatted
#   KAFKA_SASL_PASSWORD    its password (default herald-secret; letters, digits, '.', '_' and '-')
#
# Needs java (17 or newer), openssl for secured mode and, the first time only, mvn. Messages go to stderr; stdout
# carries only the KAFKA_BROKERS line (secured mode adds KAFKA_SSL_BROKERS and KAFKA_TLS_DIR lines), so callers
# can parse it.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
here=$root/scripts/kafka
port=${KAFKA_PORT:-9092}
controller_port=${KAFKA_CONTROLLER_PORT:-$((port + 1))}
data=${KAFKA_DATA_DIR:-$root/.cache/kafka/data-$port}
case $data in /*) ;; *) data=$PWD/$data ;; esac # absolute: the broker's command line is matched against it
start_timeout=${KAFKA_START_TIMEOUT:-90}
stop_timeout=${KAFKA_STOP_TIMEOUT:-30}
security=${KAFKA_SECURITY:-plaintext}
case $security in
  plaintext) template=$here/server.properties ;;
  secured) template=$here/server-secured.properties ;;
  *) echo "kafka.sh: KAFKA_SECURITY must be plaintext or secured, not '$security'" >&2; exit 2 ;;
esac
ssl_port=${KAFKA_SSL_PORT:-$((port + 2))}
tls_dir=${KAFKA_TLS_DIR:-$data/tls}
case $tls_dir in /*) ;; *) tls_dir=$PWD/$tls_dir ;; esac
sasl_user=${KAFKA_SASL_USERNAME:-herald}
sasl_password=${KAFKA_SASL_PASSWORD:-herald-secret}
# Both are written into server.properties (PLAIN's user list) and the storage tool's command line as they are.
for credential in "$sasl_user" "$sasl_password"; do
  if ! [[ $credential =~ ^[A-Za-z0-9._-]+$ ]]; then
    echo "kafka.sh: KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD may hold only letters, digits, '.', '_' and '-'" >&2
    exit 2
  fi
done
pid_file=$data/broker.pid
log_dir=$data/logs
# The jar folder is named after the version asked for and the pom's content: another Kafka version resolves into
# a folder of its own, and a broker still running from the old one keeps its jars.
version=${KAFKA_VERSION:-}
libs=$root/.cache/kafka/libs-${version:-pom}-$(cksum <"$here/pom.xml" | cut -d' ' -f1)

# For both the storage tool and the broker: log to $log_dir/server.log (see log4j2.properties).
log_opts=(-Dkafka.logs.dir="$log_dir" -Dlog4j2.configurationFile="$here/log4j2.properties")
broker_opts=(
  -Xms256m -Xmx512m                      # plenty for tests; Kafka's own start script takes 1 GB
  -XX:+UseG1GC -XX:MaxGCPauseMillis=20   # as kafka-server-start.sh: a GC pause stalls every client at once
  -Djava.awt.headless=true
)

say() { echo "kafka.sh: $*" >&2; }

# Prints the broker's pid if it runs. The pid file can outlive its broker (kill -9, a reboot) and the pid be
# reused by another process, so the pid counts only while it is a kafka.Kafka running this data dir's config.
broker_pid() {
  local pid
  pid=$(cat "$pid_file" 2>/dev/null) || return 1
  [ -n "$pid" ] && ps -ww -o args= -p "$pid" 2>/dev/null | grep -qF "kafka.Kafka $data/server.properties" &&
    echo "$pid"
}

# Copies Kafka and its runtime dependencies from Maven Central (through ~/.m2) into $libs, once.
resolve_jars() {
  [ -d "$libs" ] && return 0
  if ! command -v mvn >/dev/null; then
    say "Maven (mvn) is needed once, to fetch the Apache Kafka jars from Maven Central; install it"
    say "(Debian/Ubuntu: apt-get install maven), or set HERALD_TEST_KAFKA_BROKERS to a running broker for tests"
    exit 1
  fi
  mkdir -p "$(dirname "$libs")"
  # Two starts at once (two test runs) must not both write the folder: one resolves, the other waits for it.
  if command -v flock >/dev/null; then
    exec 9>"$(dirname "$libs")/.fetch.lock"
    flock 9
  fi
  if [ ! -d "$libs" ]; then
    say "fetching the Apache Kafka jars from Maven Central into ${libs#"$root"/} (only the first time)"
    local partial=$libs.partial.$$
    rm -rf "$partial"
    # Maven's output goes to a file and is shown only on failure (even with -q, Maven 3.8 prints stray
    # colour codes); stdout must stay parseable.
    if ! mvn -B -q -f "$here/pom.xml" ${version:+"-Dkafka.version=$version"} dependency:copy-dependencies \
      -DincludeScope=runtime -DoutputDirectory="$partial" >"$partial.log" 2>&1; then
      say "Maven could not fetch the Kafka jars:"
      cat "$partial.log" >&2
      rm -rf "$partial" "$partial.log"
      exit 1
    fi
    rm -f "$partial.log"
    # Renamed only once complete, so a folder under the final name is always a whole classpath.
    mv "$partial" "$libs"
  fi
  exec 9>&-
}

# A KRaft cluster id: 16 random bytes in URL-safe base64 without padding, as `kafka-storage.sh random-uuid`
# prints (that would cost a JVM start). Like Kafka, avoid a leading '-', which reads as a command-line option.
cluster_id() {
  local id=-
  while [ "${id:0:1}" = - ]; do
    id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | cut -c1-22)
  done
  echo "$id"
}

# KRaft refuses to start on unformatted storage; formatting writes meta.properties with the cluster id.
# A data dir that is already formatted (a restarted development broker) keeps its topics.
format_storage() {
  [ -f "$data/kraft/meta.properties" ] && return 0
  # SCRAM credentials are records in the cluster's metadata; on a new cluster they are written with the storage.
  local scram=()
  if [ "$security" = secured ]; then
    local mechanism
    for mechanism in SCRAM-SHA-512 SCRAM-SHA-256; do
      scram+=(--add-scram "$mechanism=[name=$sasl_user,password=$sasl_password]")
    done
  fi
  # A one-shot JVM: the C1 compiler alone and the serial collector halve its run time (4 s to 2 s here).
  if ! java "${log_opts[@]}" -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -cp "$libs/*" kafka.tools.StorageTool \
    format --cluster-id "$(cluster_id)" --config "$data/server.properties" --ignore-formatted "${scram[@]}" \
    >"$log_dir/format.log" 2>&1; then
    say "formatting the storage in $data/kraft failed:"
    cat "$log_dir/format.log" >&2
    exit 1
  fi
}

port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Stops the broker that was just launched (pid $1) and fails with the end of its logs.
start_failed() {
  say "$2; its first errors and its last lines ($log_dir):"
  # The cause is usually the first ERROR (with the exception on the next line); shutdown noise follows it.
  grep -m 5 -A 1 -E '^\[[^]]*\] (ERROR|FATAL) ' "$log_dir/server.log" >&2 2>/dev/null || true
  tail -n 20 "$log_dir/server.log" "$log_dir/stdout.log" >&2 2>/dev/null || true
  terminate "$1"
  rm -f "$pid_file"
  exit 1
}

start() {
  local pid
  if pid=$(broker_pid); then
    say "already running (pid $pid)"
    addresses
    return 0
  fi
  command -v java >/dev/null || { say "java (17 or newer) is needed to run the broker"; exit 1; }
  # The broker would find out only when it binds, late in its startup: say so at once.
  local p
  local ports=("$port" "$controller_port")
  [ "$security" = secured ] && ports+=("$ssl_port")
  for p in "${ports[@]}"; do
    if port_open "$p"; then
      say "127.0.0.1:$p is in use already (by another broker?); choose KAFKA_PORT, KAFKA_CONTROLLER_PORT (and KAFKA_SSL_PORT)"
      exit 1
    fi
  done
  resolve_jars
  mkdir -p "$log_dir"
  if [ "$security" = secured ] && [ ! -f "$tls_dir/broker.pem" ]; then
    command -v openssl >/dev/null || { say "openssl is needed to make the secured broker's certificates"; exit 1; }
    "$here/make-certs.sh" "$tls_dir"
  fi
  sed -e "s|@PORT@|$port|g" -e "s|@CONTROLLER_PORT@|$controller_port|g" -e "s|@DATA_DIR@|$data|g" \
    -e "s|@SSL_PORT@|$ssl_port|g" -e "s|@TLS_DIR@|$tls_dir|g" \
    -e "s|@SCRAM_USER@|$sasl_user|g" -e "s|@SCRAM_PASSWORD@|$sasl_password|g" \
    "$template" >"$data/server.properties"
  # Readiness is read from server.log, so a "started" line from a previous run must not count.
  if [ -f "$log_dir/server.log" ]; then mv -f "$log_dir/server.log" "$log_dir/server.log.previous"; fi
  format_storage

  # nohup: a development broker outlives the terminal that started it. Its output goes to files, never to our
  # stdout, or a caller that reads our output until it closes (Node's execFile) would wait for the broker.
  nohup java "${broker_opts[@]}" "${log_opts[@]}" -cp "$libs/*" kafka.Kafka "$data/server.properties" \
    </dev/null >"$log_dir/stdout.log" 2>&1 &
  pid=$!
  echo "$pid" >"$pid_file"

  # Ready means both: the client port accepts connections, and the broker logged "Kafka Server started" (it
  # does so once it has caught up with its metadata log and been unfenced, so that topics can be created).
  # Poll for that; give up as soon as the JVM exits, or when time is up.
  local deadline=$((SECONDS + start_timeout))
  until port_open "$port" && grep -qs "Kafka Server started" "$log_dir/server.log"; do
    kill -0 "$pid" 2>/dev/null || start_failed "$pid" "the broker exited while starting"
    [ "$SECONDS" -lt "$deadline" ] || start_failed "$pid" "the broker did not answer within ${start_timeout}s"
    sleep 0.2
  done

  if [ -n "${KAFKA_STOP_WITH_PID:-}" ]; then
    # A test runner that dies without its teardown (Ctrl-C, kill -9) would leave the broker running for good:
    # this watcher stops it once that process is gone. It ends by itself when the broker stops first.
    # It checks the broker's pid too, so that it never stops a later broker of the same data dir.
    nohup bash -c 'while kill -0 "$2"; do kill -0 "$1" || exec "$0" stop; sleep 2; done' \
      "$root/scripts/kafka.sh" "$KAFKA_STOP_WITH_PID" "$pid" </dev/null >/dev/null 2>&1 &
  fi
  addresses
}

# What clients need, on stdout: the bootstrap address and, for a secured broker, the SSL one and the certificates.
addresses() {
  echo "KAFKA_BROKERS=127.0.0.1:$port"
  if [ "$security" = secured ]; then
    echo "KAFKA_SSL_BROKERS=127.0.0.1:$ssl_port"
    echo "KAFKA_TLS_DIR=$tls_dir"
  fi
}

# TERM lets the broker shut down cleanly (its next start skips log recovery); KILL only if it hangs.
terminate() {
  local pid=$1 deadline=$((SECONDS + stop_timeout))
  kill -TERM "$pid" 2>/dev/null || return 0
  while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    say "the broker did not stop within ${stop_timeout}s of TERM; killing it"
    kill -KILL "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  fi
}

stop() {
  local pid
  if pid=$(broker_pid); then
    terminate "$pid"
  else
    say "not running"
  fi
  rm -f "$pid_file"
}

status() {
  local pid ssl_note=
  [ "$security" = secured ] && ssl_note=", KAFKA_SSL_BROKERS=127.0.0.1:$ssl_port, certificates in $tls_dir"
  if pid=$(broker_pid); then
    echo "running: pid $pid, KAFKA_BROKERS=127.0.0.1:$port${ssl_note:-}, data in $data"
  else
    echo "stopped (port $port, data in $data)"
    exit 3
  fi
}

case ${1:-} in
  start) start ;;
  stop) stop ;;
  status) status ;;
  fetch) resolve_jars ;;
  *)
    echo "usage: $0 start|stop|status|fetch" >&2
    exit 2
    ;;
esac
