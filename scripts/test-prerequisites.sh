#!/usr/bin/env bash
# What `npm test` needs besides npm ci, checked before anything runs: the suites start real services and tools.
#   java, mvn   the Kafka broker (scripts/kafka.sh), unless HERALD_TEST_KAFKA_BROKERS points at one; Maven only
#               until the jars are cached (fetched here, as a step of its own, so that a failure is plain)
#   openssl     certificates for the secured Kafka broker
#   redis-server  the cluster suites, unless HERALD_TEST_REDIS_URL points at one
#   chromium    the browser tests (Debian's; playwright-core cannot download a browser here)
#   promtool    the /metrics suite (Debian's prometheus package)
#   kcat        the README's Kafka examples, run as written
# Where something is missing and apt-get can be run (as root, or with sudo that needs no password), it is installed
# from Debian's packages; otherwise this stops at once with one line naming what is missing and the command that
# installs it. HERALD_TEST_NO_INSTALL=1 never installs.
set -uo pipefail
cd "$(dirname "$0")/.."

declare -A package_of=(
  [java]=openjdk-17-jre-headless [mvn]=maven [openssl]=openssl [redis-server]=redis-server [chromium]=chromium
  [promtool]=prometheus [kcat]=kcat
)
tools=(openssl chromium promtool kcat)
[ -n "${HERALD_TEST_KAFKA_BROKERS:-}" ] || tools+=(java mvn)
[ -n "${HERALD_TEST_REDIS_URL:-}" ] || tools+=(redis-server)

missing=()
for tool in "${tools[@]}"; do command -v "$tool" >/dev/null || missing+=("$tool"); done

if [ "${#missing[@]}" -gt 0 ]; then
  packages=()
  for tool in "${missing[@]}"; do packages+=("${package_of[$tool]}"); done
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo -n)
  if [ -z "${HERALD_TEST_NO_INSTALL:-}" ] && command -v apt-get >/dev/null &&
    { [ "$(id -u)" -eq 0 ] || sudo -n true 2>/dev/null; }; then
    echo "test-prerequisites: installing ${packages[*]} from Debian's packages (for ${missing[*]})" >&2
    if ! { "${sudo_cmd[@]}" apt-get update -qq && DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${packages[@]}" >/dev/null; }; then
      echo "test-prerequisites: apt-get install ${packages[*]} failed" >&2
      exit 1
    fi
  else
    echo "npm test needs ${missing[*]}; install with: sudo apt-get install ${packages[*]}" >&2
    exit 1
  fi
fi

if [ -z "${HERALD_TEST_KAFKA_BROKERS:-}" ]; then
  if ! scripts/kafka.sh fetch; then
    echo "npm test needs the Apache Kafka jars: scripts/kafka.sh fetch (Maven Central through mvn) failed" >&2
    exit 1
  fi
fi
