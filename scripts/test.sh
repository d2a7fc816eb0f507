#!/bin/sh
# The test command (README, .ci/run): Node 24, npm packages, the Debian tools the end-to-end tests
# drive (dig and nsupdate from bind9-dnsutils, knotd as the reference server, named from bind9 as
# a secondary, chromium for the status page's browser test, etcd for the cluster store, promtool
# from prometheus for contrib's alert rules, unbound as the validating resolver of the DNSSEC tests),
# type check, the layer order, lint and format, vitest.
set -eu
cd "$(dirname "$0")/.."
missing=""
command -v dig >/dev/null 2>&1 || missing="$missing bind9-dnsutils"
command -v knotd >/dev/null 2>&1 || missing="$missing knot"
command -v chromium >/dev/null 2>&1 || missing="$missing chromium"
command -v named >/dev/null 2>&1 || [ -x /usr/sbin/named ] || missing="$missing bind9"
command -v etcd >/dev/null 2>&1 || missing="$missing etcd-server"
command -v promtool >/dev/null 2>&1 || missing="$missing prometheus"
command -v unbound >/dev/null 2>&1 || [ -x /usr/sbin/unbound ] || missing="$missing unbound"
if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "test: installing Debian packages:$missing" >&2
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing >/dev/null
    # bind9 may start the system's named on port 53: the tests run their own, so stop that one.
    case "$missing" in *bind9*) ! command -v systemctl >/dev/null 2>&1 || systemctl disable --now named >/dev/null 2>&1 || true ;; esac
    # prometheus is wanted for promtool alone: a server the package started is stopped.
    case "$missing" in *prometheus*) ! command -v systemctl >/dev/null 2>&1 || systemctl disable --now prometheus prometheus-node-exporter >/dev/null 2>&1 || true ;; esac
    # unbound, likewise: the DNSSEC tests run their own (test/helpers/unbound.ts).
    case "$missing" in *unbound*) ! command -v systemctl >/dev/null 2>&1 || systemctl disable --now unbound >/dev/null 2>&1 || true ;; esac
  else
    echo "test: needs Debian packages:$missing (sudo apt-get install$missing)" >&2
    exit 1
  fi
fi
for bin in vitest tsc depcruise eslint prettier; do [ -x "node_modules/.bin/$bin" ] || { scripts/node24.sh npm ci --no-audit --no-fund; break; }; done
PATH="$PWD/node_modules/.bin:$PATH"; export PATH
scripts/node24.sh tsc -p tsconfig.json
# The layer order of src/ (.dependency-cruiser.cjs): no cycles, no upward or sibling imports.
scripts/node24.sh depcruise --config .dependency-cruiser.cjs src
# ESLint with typescript-eslint (eslint.config.js), and the formatting Prettier gives (.prettierrc.json;
# `npm run format` rewrites it).
scripts/node24.sh eslint src test bench
scripts/node24.sh prettier --check --log-level warn src test bench
# vitest's own summary is decorated; one plain "N passed, N failed" line closes the run as well.
summary=$(mktemp)
status=0
scripts/node24.sh vitest run --reporter=default --reporter=json --outputFile.json="$summary" "$@" || status=$?
scripts/node24.sh node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed` + (r.numPendingTests ? `, ${r.numPendingTests} skipped` : ""));
' "$summary" 2>/dev/null || true
rm -f "$summary"
exit "$status"
