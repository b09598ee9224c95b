#!/usr/bin/env bash
# Prints the path of a helm binary, building it once into .cache/ from the Go module proxy (Helm publishes no
# package for Debian or npm, and nothing else can be downloaded here). The build takes a few minutes of CPU the
# first time; after that the cached binary is reused. Needs Go 1.24 or newer on the PATH.
set -euo pipefail
cd "$(dirname "$0")/.."

HELM_VERSION=v3.22.0
dir=.cache/helm/$HELM_VERSION
bin=$dir/helm

if [ ! -x "$bin" ]; then
  if ! command -v go >/dev/null; then
    echo "go is not installed: helm is built from the Go module proxy (Debian: apt-get install golang-go)" >&2
    exit 1
  fi
  mkdir -p "$dir"
  echo "building helm $HELM_VERSION from the Go module proxy into $dir (a few minutes, once)" >&2
  # GOTOOLCHAIN=local: build with the Go that is installed rather than fetching the one helm's go.mod names.
  # -buildvcs=false: the module cache has no VCS metadata to stamp.
  GOTOOLCHAIN=local GOFLAGS=-buildvcs=false GOBIN="$PWD/$dir" go install "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" >&2
fi
echo "$PWD/$bin"
