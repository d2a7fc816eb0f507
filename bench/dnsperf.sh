#!/usr/bin/env bash
# End-to-end throughput with dnsperf: gslbd serving zones/ on a loopback port, pinned to CPU 0,
# dnsperf pinned to CPU 1 (when taskset exists and there are two CPUs). For each case: qps,
# latency (dnsperf's average and stddev; percentiles from its per-query -v lines), lost queries,
# the server's CPU time per answered query (utime+stime from /proc/PID/stat, before and after),
# and its peak RSS (VmHWM).
#
# Cases: static answers from zones/example.com.zone; pool answers for every pool name of
# zones/gslb.example.com.pools.yaml, without and with ECS; each on every UDP I/O of IOS (batched:
# native/udp-batch, recvmmsg/sendmmsg; dgram: node:dgram). With ANCHORS=1 (default) also a bare
# Node.js UDP echo (bench/bare-udp.ts) and Knot DNS on the same static queries, for comparison.
#
# Run: bench/dnsperf.sh      (DURATION=20 CLIENTS=4 OUTSTANDING=100 ANCHORS=1 IOS="batched dgram"
# by default; GSLBD_CONFIG=gslbd.yaml adds --config, e.g. a cluster: section to measure a cluster node)
# Stops only the processes it started, by PID.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-20}
CLIENTS=${CLIENTS:-4}
OUTSTANDING=${OUTSTANDING:-100}
ANCHORS=${ANCHORS:-1}
IOS=${IOS:-batched dgram}
# RFC 7871 option data: family 1, source /24, scope 0, 193.0.0.0 (a network geoip-lite places
# in Amsterdam, so the geo policies have a real location to work with).
ECS_OPTION=8:00011800c10000

command -v dnsperf >/dev/null || { echo "dnsperf is not installed (Debian package dnsperf)" >&2; exit 1; }
. bench/lib.sh
work=$(mktemp -d)
started=()
cleanup() {
  for pid in "${started[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
# Stops a server this script started; once reaped its PID may be reused, so it is forgotten.
stop() {
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
  started=()
}
trap cleanup EXIT

# Waits for the JSON "listening" line a server writes to $2 and prints its port.
port_of() {
  local pid=$1 log=$2
  for _ in $(seq 300); do
    kill -0 "$pid" 2>/dev/null || { echo "server $pid exited:" >&2; cat "$log" >&2; exit 1; }
    local port
    port=$(grep -h '"msg":"listening"' "$log" 2>/dev/null | head -1 | sed -n 's/.*"port":\([0-9]*\).*/\1/p')
    if [ -n "$port" ]; then echo "$port"; return; fi
    sleep 0.1
  done
  echo "server $pid did not start listening" >&2; exit 1
}

example_queries "$work"

echo "date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
machine_line
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "dnsperf: -l $DURATION -c $CLIENTS -q $OUTSTANDING; static queries: $(paste -sd, "$work/static.txt"); pool queries: $(paste -sd, "$work/pools.txt")"
echo
echo '| server | case | qps | avg latency ms (stddev) | p50 / p99 / p99.9 ms | lost | server CPU µs/query | CPU 0 others / CPU 1 all | peak RSS MiB |'
echo '|---|---|---:|---|---|---:|---:|---:|---:|'

# user + nice + system ticks of CPU N (every process on it)
cpu_ticks() { awk -v c="cpu$1" '$1 == c { print $2 + $3 + $4 }' /proc/stat; }

# run_case SERVER_LABEL CASE_LABEL PID PORT QUERY_FILE [dnsperf args...]
run_case() {
  local server=$1 label=$2 pid=$3 port=$4 file=$5; shift 5
  local out="$work/dnsperf.out"
  local before after z0 z1 o0 o1 others
  before=$(ticks "$pid"); z0=$(cpu_ticks 0); o0=$(cpu_ticks 1)
  "${CLIENT_CPU[@]}" dnsperf -s 127.0.0.1 -p "$port" -d "$file" -l "$DURATION" -c "$CLIENTS" -q "$OUTSTANDING" -v "$@" >"$out" 2>&1
  after=$(ticks "$pid"); z1=$(cpu_ticks 0); o1=$(cpu_ticks 1)
  # A shared machine's noise: CPU 0's time not the server's, and CPU 1's (dnsperf's included), as a
  # share of the run.
  others=$(awk -v a=$((z1 - z0 - (after - before))) -v b=$((o1 - o0)) -v hz="$CLK_TCK" -v d="$DURATION" \
    'BEGIN { if (a < 0) a = 0; printf "%.0f %% / %.0f %%", a / hz / d * 100, b / hz / d * 100 }')
  local completed pct
  completed=$(dnsperf_stat "$out" completed)
  pct=$(dnsperf_percentiles "$out" "0.5 0.99 0.999" | sed 's| | / |g')
  echo "| $server | $label | $(dnsperf_stat "$out" qps) | $(dnsperf_stat "$out" avg) ($(dnsperf_stat "$out" sd)) | $pct | $(dnsperf_stat "$out" lost) | $(cpu_us $((after - before)) "$completed") | $others | $(rss_mib "$pid") |"
}

# gslbd: info level only for its "listening" line; nothing is logged per query. One process, pinned
# with the others to one core (bench/workers.sh measures --workers).
for io in $IOS; do
  "${SERVER_CPU[@]}" env GSLBD_LOG_LEVEL=info "$NODE" --disable-warning=ExperimentalWarning src/9-main/cli.ts serve \
    --zones zones --listen 127.0.0.1:0 --data "$work/data" --workers 1 --io "$io" ${GSLBD_CONFIG:+--config "$GSLBD_CONFIG"} 2>"$work/gslbd.log" &
  gslbd=$!
  started+=("$gslbd")
  port=$(port_of "$gslbd" "$work/gslbd.log")
  # Without the native module --io batched serves dgram: the label says what served.
  served=$(grep -h '"msg":"listening"' "$work/gslbd.log" | head -1 | sed -n 's/.*"io":"\([a-z]*\)".*/\1/p')
  # A short warm-up so V8 has compiled the query path before anything is measured.
  "${CLIENT_CPU[@]}" dnsperf -s 127.0.0.1 -p "$port" -d "$work/static.txt" -l 3 >/dev/null 2>&1 || true
  "${CLIENT_CPU[@]}" dnsperf -s 127.0.0.1 -p "$port" -d "$work/pools.txt" -l 2 -E "$ECS_OPTION" >/dev/null 2>&1 || true
  run_case "gslbd ($served)" 'static (example.com)' "$gslbd" "$port" "$work/static.txt"
  run_case "gslbd ($served)" 'pools, no ECS' "$gslbd" "$port" "$work/pools.txt"
  run_case "gslbd ($served)" "pools, ECS 193.0.0.0/24" "$gslbd" "$port" "$work/pools.txt" -E "$ECS_OPTION"
  stop "$gslbd"
done

[ "$ANCHORS" = 1 ] || exit 0

"${SERVER_CPU[@]}" "$NODE" bench/bare-udp.ts >"$work/bare.log" 2>&1 &
bare=$!
started+=("$bare")
port=$(port_of "$bare" "$work/bare.log")
"${CLIENT_CPU[@]}" dnsperf -s 127.0.0.1 -p "$port" -d "$work/static.txt" -l 3 >/dev/null 2>&1 || true
run_case 'bare Node UDP echo' 'static queries' "$bare" "$port" "$work/static.txt"
stop "$bare"

if command -v knotd >/dev/null; then
  # One UDP worker: a single thread, like gslbd's event loop, on the same pinned CPU. knotd takes
  # no port 0, so a random one; another if that one was taken.
  mkdir -p "$work/knot/run" "$work/knot/storage"
  for attempt in 1 2 3 4 5; do
    kport=$(( 20000 + RANDOM % 20000 ))
    cat >"$work/knot.conf" <<CONF
server:
    rundir: "$work/knot/run"
    listen: 127.0.0.1@$kport
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
log:
  - target: stderr
    any: warning
database:
    storage: "$work/knot/storage"
template:
  - id: default
    storage: "$work/knot/storage"
    zonefile-sync: -1
    zonefile-load: whole
    journal-content: none
    semantic-checks: off
zone:
  - domain: example.com.
    file: "$PWD/zones/example.com.zone"
CONF
    "${SERVER_CPU[@]}" knotd -c "$work/knot.conf" >"$work/knot.log" 2>&1 &
    knot=$!
    started+=("$knot")
    for _ in $(seq 100); do
      kill -0 "$knot" 2>/dev/null || break
      dig +short +tries=1 +timeout=1 @127.0.0.1 -p "$kport" www.example.com A 2>/dev/null | grep -q . && break 2
      sleep 0.1
    done
    stop "$knot"
    [ "$attempt" = 5 ] && { echo "knotd did not start:" >&2; cat "$work/knot.log" >&2; exit 1; }
  done
  run_case "Knot DNS $(knotd -V | awk '{ print $NF }')" 'static queries, 1 UDP worker' "$knot" "$kport" "$work/static.txt"
  stop "$knot"
fi
