#!/usr/bin/env bash
# Builds Centrifugo once from the Go module proxy, so that the side-by-side bench (npm run bench) can run it as a
# peer. A second call finds the binary and does nothing.
#
#   bench/peers/centrifugo-install.sh          # prints the binary's path: .cache/centrifugo/v6.9.1/centrifugo
#
# GOTOOLCHAIN=local keeps Go from downloading another toolchain: the installed Go builds it or nothing does.
# GO names the go command (go on PATH by default), CENTRIFUGO_BINARY where the binary goes.
set -euo pipefail

version="v6.9.1"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
binary="${CENTRIFUGO_BINARY:-$root/.cache/centrifugo/$version/centrifugo}"
go="${GO:-go}"

if [[ -x "$binary" ]]; then
  echo "$binary"
  exit 0
fi
if ! command -v "$go" >/dev/null 2>&1; then
  echo "centrifugo-install: Go is not installed ($go not found); Centrifugo $version cannot be built" >&2
  exit 3
fi

dir="$(dirname "$binary")"
mkdir -p "$dir"
# Built into a scratch folder and moved in whole, so that an interrupted build leaves no half binary behind.
scratch="$(mktemp -d "$dir/.build-XXXXXX")"
trap 'rm -rf "$scratch"' EXIT
echo "centrifugo-install: building github.com/centrifugal/centrifugo/v6@$version with $("$go" version)" >&2
GOTOOLCHAIN=local GOBIN="$scratch" "$go" install "github.com/centrifugal/centrifugo/v6@$version"
mv "$scratch/centrifugo" "$binary"
echo "$binary"
