#!/bin/sh
# `npm install` / `npm ci`: with Node.js 24 first on PATH (scripts/node24.sh fetches it where the
# machine's is older, so a fresh machine with an older npm gets the same build), the native module
# (scripts/build-native.sh, which never fails the install) and the JavaScript bin/gslbd runs
# (scripts/build-js.ts). A failed JavaScript build only warns: bin/gslbd then runs the TypeScript
# sources.
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/node24.sh" sh "$root/scripts/build-native.sh"
"$root/scripts/node24.sh" node --disable-warning=ExperimentalWarning "$root/scripts/build-js.ts" ||
  echo "gslbd: JavaScript not built; bin/gslbd runs src/ (TypeScript) instead" >&2
exit 0
