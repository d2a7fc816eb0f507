#!/bin/sh
# `npm install` / `npm ci`: the native module (scripts/build-native.sh, which never fails the
# install) and the JavaScript bin/gslbd runs (scripts/build-js.ts, with Node.js 24: fetched by
# scripts/node24.sh where the machine's is older). A failed JavaScript build only warns: bin/gslbd
# then runs the TypeScript sources.
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/build-native.sh"
"$root/scripts/node24.sh" node --disable-warning=ExperimentalWarning "$root/scripts/build-js.ts" ||
  echo "gslbd: JavaScript not built; bin/gslbd runs src/ (TypeScript) instead" >&2
exit 0
