#!/usr/bin/env bash
# Two workers on two cores (issue 17): gslbd `--workers 1` and `--workers 2` (worker threads) next
# to gdnsd with one and two UDP threads, on bench/compare.sh's zone and TCP-checked pool, nothing
# pinned: server and dnsperf share the machine's two cores as the scheduler likes, which is what a
# second worker can win on a 2-core machine. For each, ROUNDS runs of the pool profile (DURATION s,
# CLIENTS sockets so SO_REUSEPORT spreads them over the workers), in turn, and the medians of:
# qps, the server's CPU µs per answered query (the whole process: every thread), and the cores
# the server and dnsperf each kept busy (their CPU seconds per second: their sum near 2 says the
# machine, not the server, was the limit; dnsperf's share is the load generator's share).
#
#   bench/compare-workers.sh        (ROUNDS=3 DURATION=10 CLIENTS=64 OUTSTANDING=200)
#
# Starts the pool's TCP targets (bench/compare/listeners.ts on 127.0.0.31-34, port CHECK_PORT,
# default 18081). Every process started is stopped by its PID.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
CLIENTS=${CLIENTS:-64}
OUTSTANDING=${OUTSTANDING:-200}
CHECK_PORT=${CHECK_PORT:-18081}
CMP=bench/compare
TARGETS=(127.0.0.31 127.0.0.32 127.0.0.33 127.0.0.34)
log() { echo "compare-workers: $*" >&2; }
die() { log "$*"; exit 1; }
command -v gdnsd >/dev/null && command -v dnsperf >/dev/null || die "needs gdnsd and dnsperf (bench/compare.sh installs them)"

track_started
echo 'pool.bench.example A' >"$work/pool.txt"

start_pool_targets "$CHECK_PORT" "${TARGETS[@]}"

declare -A PID PORT
# start_gslbd NAME WORKERS: the built JavaScript when fresh, else the sources, as bin/gslbd picks
start_gslbd() {
  local name=$1 workers=$2 dir="$work/$1" port=
  mkdir -p "$dir/zones"
  cp "$CMP/bench.example.zone" "$dir/zones/"
  sed "s/port: 8080/port: $CHECK_PORT/" "$CMP/gslbd/bench.example.pools.yaml" >"$dir/zones/bench.example.pools.yaml"
  GSLBD_LOG_LEVEL=info bin/gslbd serve --zones "$dir/zones" --listen 127.0.0.1:0 --data "$dir/data" \
    --workers "$workers" 2>"$dir/log" &
  PID[$name]=$!
  started+=("${PID[$name]}")
  for _ in $(seq 300); do
    port=$({ grep -h '"msg":"listening"' "$dir/log" || true; } | head -1 | sed -n 's/.*"port":\([0-9]*\).*/\1/p')
    [ -n "$port" ] && [ "$(grep -c '"msg":"listening"' "$dir/log")" -ge "$workers" ] && break
    sleep 0.1
  done
  [ -n "$port" ] || { cat "$dir/log" >&2; die "$name did not start"; }
  PORT[$name]=$port
}
# start_gdnsd NAME THREADS
start_gdnsd() {
  local name=$1 threads=$2 dir="$work/$1"
  mkdir -p "$dir/zones"
  cat "$CMP/bench.example.zone" "$CMP/gdnsd/pool.rr" >"$dir/zones/bench.example"
  PORT[$name]=$((20000 + RANDOM % 20000))
  sed -e "s|@LISTEN@|127.0.0.1:${PORT[$name]}|" -e "s|@DIR@|$dir|g" -e "s/port => 8080/port => $CHECK_PORT/" \
    -e "s/udp_threads => 1/udp_threads => $threads/" "$CMP/gdnsd/config" >"$dir/config"
  gdnsd -c "$dir" start >"$dir/log" 2>&1 &
  PID[$name]=$!
  started+=("${PID[$name]}")
}
start_gslbd gslbd-1 1
start_gslbd gslbd-2 2
start_gdnsd gdnsd-1 1
start_gdnsd gdnsd-2 2
servers=(gslbd-1 gslbd-2 gdnsd-1 gdnsd-2)
for s in "${servers[@]}"; do
  for _ in $(seq 100); do answering "${PORT[$s]}" && break; sleep 0.1; done
  answering "${PORT[$s]}" || die "$s does not answer"
  dnsperf -s 127.0.0.1 -p "${PORT[$s]}" -d "$work/pool.txt" -l 3 -c "$CLIENTS" -q "$OUTSTANDING" >/dev/null 2>&1 || true
done
sleep 3

declare -A RUNS
# run SERVER: one dnsperf run; appends "qps cpu server-cores dnsperf-cores" to RUNS[SERVER]
run() {
  local s=$1 out="$work/out" c0 c1 t0 t1 d0 d1 n
  child_seconds >"$work/d0"
  d0=$(cat "$work/d0")
  c0=$(ticks "${PID[$s]}"); t0=$(date +%s.%N)
  dnsperf -s 127.0.0.1 -p "${PORT[$s]}" -d "$work/pool.txt" -l "$DURATION" -c "$CLIENTS" -q "$OUTSTANDING" \
    >"$out" 2>&1 || { cat "$out" >&2; die "dnsperf failed"; }
  c1=$(ticks "${PID[$s]}"); t1=$(date +%s.%N)
  child_seconds >"$work/d1"
  d1=$(cat "$work/d1")
  n=$(dnsperf_stat "$out" completed)
  RUNS[$s]+="$(dnsperf_stat "$out" qps) $(cpu_us $((c1 - c0)) "$n") $(awk -v c=$((c1 - c0)) -v hz="$CLK_TCK" \
    -v p="$(awk -v a="$d0" -v b="$d1" 'BEGIN { print b - a }')" -v d="$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" \
    'BEGIN { printf "%.2f %.2f", c / hz / d, p / d }')
"
}
start=$(date -u '+%H:%M:%S')
for r in $(seq "$ROUNDS"); do
  log "round $r of $ROUNDS"
  for s in "${servers[@]}"; do run "$s"; done
done
end=$(date -u '+%H:%M:%S')
median() { printf '%s' "${RUNS[$2]}" | awk -v c="$1" 'NF { print $c }' | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

echo "bench/compare-workers.sh, $start – $end UTC, ROUNDS=$ROUNDS DURATION=$DURATION CLIENTS=$CLIENTS OUTSTANDING=$OUTSTANDING, nothing pinned; $(machine_line)"
echo "gslbd $(git rev-parse --short HEAD); medians over the rounds; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo '| server | pool qps | × its 1-thread qps | CPU µs/query | cores busy: server + dnsperf |'
echo '|---|---:|---:|---:|---|'
for s in "${servers[@]}"; do
  one=${s%-*}-1
  echo "| $s | $(median 1 "$s") | $(awk -v a="$(median 1 "$s")" -v b="$(median 1 "$one")" 'BEGIN { printf "%.2f", a / b }')× |" \
    "$(median 2 "$s") | $(median 3 "$s") + $(median 4 "$s") |"
done
echo
echo "gslbd-2 / gdnsd-2: qps $(awk -v a="$(median 1 gslbd-2)" -v b="$(median 1 gdnsd-2)" 'BEGIN { printf "%.2f", a / b }')×," \
  "CPU per query $(awk -v a="$(median 2 gslbd-2)" -v b="$(median 2 gdnsd-2)" 'BEGIN { printf "%.2f", a / b }')×"
echo
echo 'Each run (qps, µs/query, server cores, dnsperf cores):'
for s in "${servers[@]}"; do printf '%s' "${RUNS[$s]}" | awk -v k="$s" 'NF { printf "%s%s %s %s %s", (NR > 1 ? "; " : k ": "), $1, $2, $3, $4 } END { print "" }'; done
