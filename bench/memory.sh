#!/usr/bin/env bash
# Memory of a default gslbd (issue 17): `bin/gslbd serve --zones zones` as `npm start` runs it,
# one worker thread per core plus the primary, with the bundled zones' geo pools (so geoip-lite's
# data loaded), in each of the ways it can start:
#
#   built        bin/gslbd with the JavaScript of `npm install` (build/, fresh)
#   sources      the same command run on src/ (Node.js strips the types as it loads them)
#   workers 1    built, `--workers 1`: the main thread answers alone
#
# For each: RSS once listening (idle, after 10 s), then after 20 s of dnsperf (static and pool
# questions, with and without ECS, 64 clients), and the peak (VmHWM); the process's threads.
# Before worker threads, `--workers 2` ran three processes (their RSS is summed here the same
# way, over every process whose parent is gslbd, should there be any).
#
# Run: bench/memory.sh     (needs dnsperf; builds build/ first with npm run build)
# Stops only the processes it started, by PID.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v dnsperf >/dev/null || { echo "dnsperf is not installed (Debian package dnsperf)" >&2; exit 1; }
. bench/lib.sh
track_started

"$NODE" --disable-warning=ExperimentalWarning scripts/build-js.ts 2>/dev/null
example_queries "$work"

# RSS in MiB of gslbd and its child processes (none with threads): field 1 VmRSS, 2 VmHWM.
rss_now() {
  local p total=0 peak=0
  for p in "$gslbd" $(pgrep -P "$gslbd" || true); do
    total=$((total + $(awk '/VmRSS/ { print $2 }' "/proc/$p/status")))
    peak=$((peak + $(awk '/VmHWM/ { print $2 }' "/proc/$p/status")))
  done
  awk -v r="$total" -v h="$peak" 'BEGIN { printf "%.0f %.0f\n", r / 1024, h / 1024 }'
}

echo "date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
machine_line
echo
echo '| gslbd | workers | RSS idle MiB | RSS under load MiB | peak MiB (MB) | threads |'
echo '|---|---:|---:|---:|---:|---:|'

# measure LABEL CLI WORKERS
measure() {
  local label=$1 cli=$2 workers=$3
  rm -rf "$work/data"
  # As bin/gslbd starts it (its environment and flags), with the given entry point.
  env GSLBD_LOG_LEVEL=info MALLOC_ARENA_MAX=2 "$NODE" --disable-warning=ExperimentalWarning --max-semi-space-size=2 "$cli" serve \
    --zones zones --listen 127.0.0.1:0 --data "$work/data" --workers "$workers" 2>"$work/gslbd.log" &
  gslbd=$!
  started+=("$gslbd")
  local port
  port=$(gslbd_port "$gslbd" "$work/gslbd.log" "$workers")
  sleep 10
  local idle
  idle=$(rss_now | cut -d' ' -f1)
  cat "$work/static.txt" "$work/pools.txt" >"$work/all.txt"
  dnsperf -s 127.0.0.1 -p "$port" -d "$work/all.txt" -l 10 -c 64 >/dev/null 2>&1 || true
  dnsperf -s 127.0.0.1 -p "$port" -d "$work/pools.txt" -l 10 -c 64 -E 8:00011800c10000 >/dev/null 2>&1 || true
  local now peak threads
  read -r now peak < <(rss_now)
  threads=$(awk '/Threads/ { print $2 }' "/proc/$gslbd/status")
  echo "| $label | $workers | $idle | $now | $peak ($(awk -v m="$peak" 'BEGIN { printf "%.0f", m * 1.048576 }')) | $threads |"
  stop_one "$gslbd"
}

cores=$(nproc)
measure built build/src/9-main/cli.js "$cores"
measure sources src/9-main/cli.ts "$cores"
measure built build/src/9-main/cli.js 1
