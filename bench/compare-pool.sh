#!/usr/bin/env bash
# gslbd against gdnsd on bench/compare.sh's pool only, in interleaved rounds: a shorter and steadier
# reading of "CPU per pool answer, × gdnsd's" and "p99 at 80 % load" on a shared machine, where
# compare.sh measures each server once, minutes apart, and another engineer's job in one server's
# minute moves the ratio by tens of percent.
#
#   bench/compare-pool.sh        (ROUNDS=3 DURATION=8 CLIENTS=4 OUTSTANDING=100 BASE=DIR FIXED=QPS)
#
# Starts the pool's TCP targets (bench/compare/listeners.ts on 127.0.0.31-34, port CHECK_PORT,
# default 18080, so a compare.sh run elsewhere on 8080 is not disturbed), gslbd from this checkout
# (`--workers 1`, batched UDP), gslbd from BASE (another checkout, e.g. `git archive` of an earlier
# commit with its native module built; optional) and gdnsd, each pinned to CPU 0 and serving
# bench/compare's zone and pool, with dnsperf on CPU 1. Then ROUNDS rounds, each running the pool
# profile and the pool profile with ECS 193.0.0.0/24 on every server in turn (DURATION s each),
# with FIXED also the pool profile at FIXED qps (dnsperf -Q), and last the pool profile at 80 % of
# each server's median pool qps. Unlimited, dnsperf (one core) is the limit, not the server: a
# quicker server then waits more, takes smaller batches, and pays its per-batch costs (epoll,
# recvmmsg, the call into JavaScript, sendmmsg) over fewer queries, so its CPU per query hides
# part of what it saved. At FIXED qps every server gets the same batches' worth of queries. Prints, per server and
# profile, the median over the rounds of qps and server CPU µs per answered query (utime+stime /
# answered), the others' CPU on cores 0 and 1 during its runs (noise), p50/p99 of the 80 % run,
# and gslbd's CPU per query as a multiple of gdnsd's. Every process started is stopped by its PID.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-8}
CLIENTS=${CLIENTS:-4}
OUTSTANDING=${OUTSTANDING:-100}
CHECK_PORT=${CHECK_PORT:-18080}
BASE=${BASE:-}
FIXED=${FIXED:-}
ECS_OPTION=8:00011800c10000
CMP=bench/compare
TARGETS=(127.0.0.31 127.0.0.32 127.0.0.33 127.0.0.34)
log() { echo "compare-pool: $*" >&2; }
die() { log "$*"; exit 1; }
command -v gdnsd >/dev/null && command -v dnsperf >/dev/null || die "needs gdnsd and dnsperf (bench/compare.sh installs them)"

track_started
echo 'pool.bench.example A' >"$work/pool.txt"
# user + nice + system + irq + softirq ticks of CPU N (a server's own time includes the softirq
# work of its loopback sends, which /proc/stat counts apart)
cpu_ticks() { awk -v c="cpu$1" '$1 == c { print $2 + $3 + $4 + $7 + $8 }' /proc/stat; }

start_pool_targets "$CHECK_PORT" "${TARGETS[@]}"

declare -A PID PORT
# start_gslbd NAME ROOT: gslbd of the checkout at ROOT
start_gslbd() {
  local name=$1 root=$2 dir="$work/$1" port=
  mkdir -p "$dir/zones"
  cp "$CMP/bench.example.zone" "$dir/zones/"
  sed "s/port: 8080/port: $CHECK_PORT/" "$CMP/gslbd/bench.example.pools.yaml" >"$dir/zones/bench.example.pools.yaml"
  (cd "$root" && exec "${SERVER_CPU[@]}" env GSLBD_LOG_LEVEL=info "$NODE" --disable-warning=ExperimentalWarning \
    src/9-main/cli.ts serve --zones "$dir/zones" --listen 127.0.0.1:0 --data "$dir/data" --workers 1 2>"$dir/log") &
  PID[$name]=$!
  started+=("${PID[$name]}")
  for _ in $(seq 300); do
    port=$({ grep -h '"msg":"listening"' "$dir/log" || true; } | head -1 | sed -n 's/.*"port":\([0-9]*\).*/\1/p')
    [ -n "$port" ] && break
    sleep 0.1
  done
  [ -n "$port" ] || { cat "$dir/log" >&2; die "$name did not start"; }
  grep -q '"io":"batched"' "$dir/log" || log "$name: not on batched UDP"
  PORT[$name]=$port
}
start_gslbd gslbd "$PWD"
[ -z "$BASE" ] || start_gslbd base "$BASE"
gdir="$work/gdnsd"
mkdir -p "$gdir/zones"
cat "$CMP/bench.example.zone" "$CMP/gdnsd/pool.rr" >"$gdir/zones/bench.example"
PORT[gdnsd]=$((20000 + RANDOM % 20000))
sed -e "s|@LISTEN@|127.0.0.1:${PORT[gdnsd]}|" -e "s|@DIR@|$gdir|g" -e "s/port => 8080/port => $CHECK_PORT/" "$CMP/gdnsd/config" >"$gdir/config"
"${SERVER_CPU[@]}" gdnsd -c "$gdir" start >"$gdir/log" 2>&1 &
PID[gdnsd]=$!
started+=("${PID[gdnsd]}")
servers=(gslbd ${BASE:+base} gdnsd)
for s in "${servers[@]}"; do
  for _ in $(seq 100); do answering "${PORT[$s]}" && break; sleep 0.1; done
  answering "${PORT[$s]}" || die "$s does not answer"
  # warm-up, and the health checks settle (rise 2 at 2 s)
  "${CLIENT_CPU[@]}" dnsperf -s 127.0.0.1 -p "${PORT[$s]}" -d "$work/pool.txt" -l 3 -c "$CLIENTS" -q "$OUTSTANDING" >/dev/null 2>&1 || true
done
sleep 3

declare -A RUNS
# run SERVER KEY [dnsperf args]: one dnsperf run; appends "qps cpu others0 others1" to RUNS[KEY]
run() {
  local s=$1 key=$2 out="$work/out" c0 c1 z0 z1 o0 o1 t0 t1 n d0 d1; shift 2
  child_seconds >"$work/d0"
  d0=$(cat "$work/d0")
  c0=$(ticks "${PID[$s]}"); z0=$(cpu_ticks 0); o0=$(cpu_ticks 1); t0=$(date +%s.%N)
  "${CLIENT_CPU[@]}" dnsperf -s 127.0.0.1 -p "${PORT[$s]}" -d "$work/pool.txt" -l "$DURATION" \
    -c "$CLIENTS" -q "$OUTSTANDING" -v "$@" >"$out" 2>&1 || { cat "$out" >&2; die "dnsperf failed"; }
  c1=$(ticks "${PID[$s]}"); z1=$(cpu_ticks 0); o1=$(cpu_ticks 1); t1=$(date +%s.%N)
  child_seconds >"$work/d1"
  d1=$(cat "$work/d1")
  n=$(dnsperf_stat "$out" completed)
  RUNS[$key]+="$(dnsperf_stat "$out" qps) $(cpu_us $((c1 - c0)) "$n") $(awk -v z=$((z1 - z0 - (c1 - c0))) -v o=$((o1 - o0)) -v p="$(awk -v a="$d0" -v b="$d1" 'BEGIN { print b - a }')" \
    -v hz="$CLK_TCK" -v d="$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" \
    'BEGIN { z = z / hz / d * 100; o = (o / hz - p) / d * 100; printf "%.0f %.0f", z < 0 ? 0 : z, o < 0 ? 0 : o }')
"
  [ "${KEEP_LAST:-}" != 1 ] || cp "$out" "$work/last"
}
start=$(date -u '+%H:%M:%S')
for r in $(seq "$ROUNDS"); do
  log "round $r of $ROUNDS"
  for s in "${servers[@]}"; do
    run "$s" "$s/pool"
    run "$s" "$s/ecs" -E "$ECS_OPTION"
    [ -z "$FIXED" ] || run "$s" "$s/fixed" -Q "$FIXED"
  done
done
# median COLUMN KEY
median() { printf '%s' "${RUNS[$2]}" | awk -v c="$1" 'NF { print $c }' | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
declare -A P80
for s in "${servers[@]}"; do
  rate=$(( $(median 1 "$s/pool") * 8 / 10 ))
  log "$s: pool at 80 % (-Q $rate)"
  KEEP_LAST=1 run "$s" "$s/80" -Q "$rate"
  P80[$s]="$(dnsperf_percentiles "$work/last" "0.5 0.99")"
done
end=$(date -u '+%H:%M:%S')

echo "bench/compare-pool.sh, $start – $end UTC, ROUNDS=$ROUNDS DURATION=$DURATION; $(machine_line)"
echo "gslbd $(git rev-parse --short HEAD)${BASE:+, base: $BASE}; medians over the rounds; others: other processes' CPU on cores 0 / 1 (%)"
echo
echo '| server | pool qps | pool µs/query | others | ECS qps | ECS µs/query | others | 80 %: qps | µs/query | p50 / p99 ms |'
echo '|---|---:|---:|---|---:|---:|---|---:|---:|---|'
for s in "${servers[@]}"; do
  echo "| $s | $(median 1 "$s/pool") | $(median 2 "$s/pool") | $(median 3 "$s/pool") / $(median 4 "$s/pool") |" \
    "$(median 1 "$s/ecs") | $(median 2 "$s/ecs") | $(median 3 "$s/ecs") / $(median 4 "$s/ecs") |" \
    "$(median 1 "$s/80") | $(median 2 "$s/80") | ${P80[$s]/ / \/ } |"
done
echo
if [ -n "$FIXED" ]; then
  echo
  echo "Pool at $FIXED qps (-Q), µs/query: $(for s in "${servers[@]}"; do printf '%s %s; ' "$s" "$(median 2 "$s/fixed")"; done)"
  for s in gslbd ${BASE:+base}; do
    echo "$s / gdnsd at $FIXED qps: $(awk -v a="$(median 2 "$s/fixed")" -v b="$(median 2 gdnsd/fixed)" 'BEGIN { printf "%.2f", a / b }')×"
  done
fi
echo
echo 'Each run (qps, µs/query, others on core 0 / 1 %):'
for k in "${!RUNS[@]}"; do printf '%s' "${RUNS[$k]}" | awk -v k="$k" 'NF { printf "%s%s %s %s/%s", (NR > 1 ? ", " : k ": "), $1, $2, $3, $4 } END { print "" }'; done | sort
echo
for s in gslbd ${BASE:+base}; do
  echo "$s / gdnsd CPU per query: pool $(awk -v a="$(median 2 "$s/pool")" -v b="$(median 2 gdnsd/pool)" 'BEGIN { printf "%.2f", a / b }')×," \
    "ECS $(awk -v a="$(median 2 "$s/ecs")" -v b="$(median 2 gdnsd/ecs)" 'BEGIN { printf "%.2f", a / b }')×"
done
