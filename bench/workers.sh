#!/usr/bin/env bash
# `--workers` scaling with dnsperf: gslbd serving zones/ on a loopback port with --workers 1 and
# --workers 2, dnsperf against each, same queries, same dnsperf settings. On a 2-core machine the
# load generator needs a core too, so the runs say what they are:
#
#   1 worker, pinned     gslbd on CPU 0, dnsperf on CPU 1 (bench/dnsperf.sh's setup): one core each
#   2 workers, pinned    the primary and both worker threads on CPU 0, dnsperf on CPU 1: what two
#                        workers cost over one on the same core (no more CPU to use)
#   1 worker, unpinned   no pinning: gslbd and dnsperf share both cores as the scheduler likes
#   2 workers, unpinned  no pinning: primary + 2 worker threads + dnsperf share both cores
#
# For each: qps, latency (average; p50/p99 from dnsperf's per-query -v lines), lost queries,
# gslbd's CPU time per answered query (the whole process: primary and worker threads, utime+stime
# from /proc/PID/stat), each worker thread's share of that CPU (/proc/PID/task/TID/stat of the
# threads named WorkerThread), and the cores gslbd and dnsperf each kept
# busy on average in the middle of the run: their sum near 2 says the machine's two cores, not
# gslbd, were the limit.
#
# Run: bench/workers.sh     (DURATION=15 CLIENTS=64 OUTSTANDING=200 by default)
# dnsperf's clients each use their own socket (source port): the kernel spreads them over the
# workers' SO_REUSEPORT sockets by that port, so CLIENTS must be well above the worker count.
# Stops only the processes it started, by PID.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-15}
CLIENTS=${CLIENTS:-64}
OUTSTANDING=${OUTSTANDING:-200}

command -v dnsperf >/dev/null || { echo "dnsperf is not installed (Debian package dnsperf)" >&2; exit 1; }
. bench/lib.sh
track_started

example_queries "$work"

echo "date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
machine_line
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "dnsperf: -l $DURATION -c $CLIENTS -q $OUTSTANDING"
echo
echo '| gslbd | case | qps | avg latency ms | p50 / p99 ms | lost | gslbd CPU µs/query | worker CPU share | cores busy: gslbd + dnsperf |'
echo '|---|---|---:|---:|---|---:|---:|---|---|'

# start WORKERS PIN(0|1): starts gslbd, sets $gslbd and $port, and $pids: the process, then its
# worker threads (as PID/task/TID, which `ticks` reads like a PID).
start() {
  local workers=$1 pin=$2 prefix=()
  [ "$pin" = 1 ] && prefix=(taskset -c 0)
  "${prefix[@]}" env GSLBD_LOG_LEVEL=info "$NODE" --disable-warning=ExperimentalWarning src/9-main/cli.ts serve \
    --zones zones --listen 127.0.0.1:0 --data "$work/data-$workers-$pin" --workers "$workers" 2>"$work/gslbd.log" &
  gslbd=$!
  started+=("$gslbd")
  port=$(gslbd_port "$gslbd" "$work/gslbd.log" "$workers")
  local t workers_tids=""
  for t in /proc/"$gslbd"/task/*; do
    [ "$(cat "$t/comm")" = WorkerThread ] && workers_tids="$workers_tids $gslbd/task/${t##*/}"
  done
  pids="$gslbd$workers_tids"
}

stop() { stop_one "$gslbd"; }


# run LABEL CASE FILE PIN
run() {
  local label=$1 case=$2 file=$3 pin=$4 client=()
  [ "$pin" = 1 ] && client=(taskset -c 1)
  local out="$work/dnsperf.out" p before=() after=() dp w0 w1
  for p in $pids; do before+=("$(ticks "$p")"); done
  # The process's ticks (the first) hold every thread's: the total is those alone.
  "${client[@]}" dnsperf -s 127.0.0.1 -p "$port" -d "$file" -l "$DURATION" -c "$CLIENTS" -q "$OUTSTANDING" -v >"$out" 2>&1 &
  dp=$!
  # Cores kept busy, gslbd's and dnsperf's, over the steady middle of the run (dnsperf's start,
  # and its wait for the last answers after -l, left out).
  sleep 1
  w0="$(ticks "$gslbd") $(ticks "$dp") $(date +%s.%N)"
  sleep $((DURATION - 2))
  w1="$(ticks "$gslbd") $(ticks "$dp") $(date +%s.%N)"
  wait "$dp"
  for p in $pids; do after+=("$(ticks "$p")"); done
  local completed pct
  completed=$(dnsperf_stat "$out" completed)
  pct=$(dnsperf_percentiles "$out" "0.5 0.99" | sed 's| | / |')
  local total=0 i shares=(-) d
  total=$((after[0] - before[0]))
  # Each worker's part of gslbd's CPU (the primary's is what is left: probes, journal, nothing here).
  [ "${#before[@]}" -gt 1 ] && shares=()
  for ((i = 1; i < ${#before[@]}; i++)); do
    d=$((after[i] - before[i]))
    shares+=("$(awk -v d=$d -v t=$total 'BEGIN { printf "%.0f%%", (t > 0 ? 100 * d / t : 0) }')")
  done
  local cpu busy split
  cpu=$(cpu_us "$total" "$completed")
  busy=$(echo "$w0 $w1" | awk -v hz="$CLK_TCK" '{ s = $6 - $3; g = ($4 - $1) / hz / s; d = ($5 - $2) / hz / s; printf "%.2f + %.2f = %.2f", g, d, g + d }')
  split=$(printf '%s / ' "${shares[@]}")
  echo "| $label | $case | $(dnsperf_stat "$out" qps) | $(dnsperf_stat "$out" avg) | $pct | $(dnsperf_stat "$out" lost) | $cpu | ${split% / } | $busy |"
}

for config in '1 1' '2 1' '1 0' '2 0'; do
  read -r workers pin <<<"$config"
  start "$workers" "$pin"
  label="$workers worker$([ "$workers" -gt 1 ] && echo s), $([ "$pin" = 1 ] && echo 'pinned (gslbd on CPU 0, dnsperf on CPU 1)' || echo unpinned)"
  # A short warm-up so V8 has compiled the query path in every process before anything is measured.
  dnsperf -s 127.0.0.1 -p "$port" -d "$work/static.txt" -l 3 -c "$CLIENTS" >/dev/null 2>&1 || true
  dnsperf -s 127.0.0.1 -p "$port" -d "$work/pools.txt" -l 2 -c "$CLIENTS" >/dev/null 2>&1 || true
  run "$label" 'static (example.com)' "$work/static.txt" "$pin"
  run "$label" 'pools, no ECS' "$work/pools.txt" "$pin"
  stop
done
