#!/usr/bin/env bash
# gslbd side by side with gdnsd 3.8 and PowerDNS Authoritative 4.7 (bind backend, LUA records), on
# the same zone and the same health-checked 4-target pool (issue 6, first bullet).
#
#   bench/compare.sh        (DURATION=15 CLIENTS=4 OUTSTANDING=100 RESULTS_FILE=bench/RESULTS.md
#                            GSLBD_IO=batched|dgram: gslbd's --io, default its own)
#
# 1. Installs the Debian packages gdnsd, pdns-server, pdns-backend-bind and dnsperf when they are
#    missing and the script runs as root (apt-get; services are kept from starting during the
#    install with a temporary policy-rc.d if the machine has none).
# 2. Starts bench/compare/listeners.ts: TCP listeners on 127.0.0.31-34:8080, the pool's targets.
# 3. Serves bench/compare/bench.example.zone (static records) plus each server's own
#    pool.bench.example.:
#      gslbd      gslbd/bench.example.pools.yaml: weighted, 1 answer, tcp check every 2 s; --workers 1
#      gdnsd      gdnsd/config + gdnsd/pool.rr: plugin weighted, service type tcp_connect every 2 s;
#                 1 UDP thread, 1 TCP thread
#      PowerDNS   pdns/pdns.conf + named.conf + pool.rr: bind backend, LUA ifportup(8080, {...}),
#                 enable-lua-records=shared, lua-health-checks-interval=2; receiver-threads=1,
#                 distributor-threads=1
#    each on its own 127.0.0.1 port, each pinned to CPU 0 (taskset -c 0); dnsperf on CPU 1.
# 4. Checks with dig that each answers the pool name with the targets (all four seen in 40
#    queries) and the static names and NXDOMAIN as expected, before anything is measured.
# 5. For each server, after a warm-up, one dnsperf run (-l DURATION -c CLIENTS -q OUTSTANDING) per
#    profile; dnsperf's -E adds the ECS option to every query of a run, so "with ECS" is a
#    separate run of the same queries:
#      pool         pool.bench.example A
#      pool, ECS    the same with ECS 193.0.0.0/24
#      static       www A, www AAAA, bench.example MX, txt TXT (positive static answers)
#      mixed        4 x pool A, the 4 static queries, nothing A, missing AAAA (NXDOMAIN): 40 % pool,
#                   40 % static, 20 % NXDOMAIN
#      mixed, ECS   the same with ECS 193.0.0.0/24
#    then each server's pool profile again at 80 % of its own measured pool qps (dnsperf -Q), for
#    the latency at 80 % load; gslbd once more with a geo-proximity pool (gslbd/geo.pools.yaml,
#    so the geo database is loaded) for its peak RSS; and Knot DNS (when knotd is installed) on
#    the static profile, the other anchor the issue names for static answers.
# 6. Reports per run: qps, server CPU µs per answered query (utime+stime of the server process,
#    all its threads, from /proc/PID/stat), how busy the server's core was, how much CPU other
#    processes took on the two cores (/proc/stat: a shared machine's noise), p50/p99 latency (from
#    dnsperf's per-query -v lines), lost queries, peak RSS (VmHWM); then the issue's ratios and
#    whether each target is met. The section is printed and appended to RESULTS_FILE
#    (RESULTS_FILE= to only print it).
#
# Everything listens on loopback only; every process the script starts is stopped by its PID on
# exit. About 6-7 minutes at DURATION=15.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-15}
CLIENTS=${CLIENTS:-4}
OUTSTANDING=${OUTSTANDING:-100}
WARMUP=${WARMUP:-3}
RESULTS_FILE=${RESULTS_FILE-bench/RESULTS.md}
# RFC 7871 option: family 1, source /24, scope 0, 193.0.0.0 (geoip-lite places it in Amsterdam).
ECS_OPTION=8:00011800c10000
ECS_LABEL='ECS 193.0.0.0/24'
TARGETS=(127.0.0.31 127.0.0.32 127.0.0.33 127.0.0.34)
CHECK_PORT=8080
CMP=bench/compare

log() { echo "compare: $*" >&2; }
die() { log "$*"; exit 1; }

# --- 1. packages ----------------------------------------------------------------------------------
missing=()
command -v gdnsd >/dev/null || missing+=(gdnsd)
command -v pdns_server >/dev/null || missing+=(pdns-server)
# the bind backend is a module of pdns_server, not a command
compgen -G '/usr/lib/*/pdns/libbindbackend.so' >/dev/null || missing+=(pdns-backend-bind)
command -v dnsperf >/dev/null || missing+=(dnsperf)
command -v dig >/dev/null || missing+=(bind9-dnsutils)
if [ "${#missing[@]}" -gt 0 ]; then
  [ "$(id -u)" = 0 ] || die "missing ${missing[*]}: install them (apt-get install ${missing[*]}) or run as root"
  log "installing ${missing[*]}"
  policy_rc=
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    # Debian starts a service when its package is installed; gdnsd and pdns would take port 53.
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d && policy_rc=1
  fi
  install_ok=1
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >&2 ||
    { apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >&2; } ||
    install_ok=
  [ -n "$policy_rc" ] && rm -f /usr/sbin/policy-rc.d
  [ -n "$install_ok" ] || die "apt-get install ${missing[*]} failed"
fi

. bench/lib.sh

track_started

# user + nice + system ticks of CPU N (every process on it), to tell how much else ran there
cpu_ticks() { awk -v c="cpu$1" '$1 == c { print $2 + $3 + $4 }' /proc/stat; }
now() { date +%s.%N; }

# A port on 127.0.0.1 that nothing listens on (UDP or TCP) right now.
free_port() {
  local p
  for _ in $(seq 100); do
    p=$((20000 + RANDOM % 20000))
    if [ -z "$(ss -Hlnu "sport = :$p")$(ss -Hlnt "sport = :$p")" ]; then echo "$p"; return; fi
  done
  die "no free port found"
}

# dig against a server: dq PORT NAME TYPE [dig options...]
dq() { local port=$1 name=$2 type=$3; shift 3; dig @127.0.0.1 -p "$port" +norec +tries=1 +timeout=1 "$name" "$type" "$@"; }

# Waits until the server (PID $1) answers on port $2 or exits; returns 1 if it exited.
wait_answering() {
  local pid=$1 port=$2
  for _ in $(seq 100); do
    kill -0 "$pid" 2>/dev/null || return 1
    dq "$port" bench.example SOA +short 2>/dev/null | grep -q hostmaster && return 0
    sleep 0.1
  done
  return 1
}

# --- 2. the pool's targets -----------------------------------------------------------------------
start_pool_targets "$CHECK_PORT" "${TARGETS[@]}"

# --- queries ---------------------------------------------------------------------------------------
Z=bench.example
printf '%s\n' "pool.$Z A" >"$work/pool.txt"
printf '%s\n' "www.$Z A" "www.$Z AAAA" "$Z MX" "txt.$Z TXT" >"$work/static.txt"
printf '%s\n' "pool.$Z A" "www.$Z A" "pool.$Z A" "www.$Z AAAA" "nothing.$Z A" \
  "pool.$Z A" "$Z MX" "pool.$Z A" "txt.$Z TXT" "missing.$Z AAAA" >"$work/mixed.txt"

# --- 4. answers are right before anything is measured ----------------------------------------------
# verify LABEL PORT [POOL_ECS_EXPECT]: static names, NXDOMAIN, and the pool (all four targets seen).
verify() {
  local label=$1 port=$2 fail=0 got want
  check() { # check DESCRIPTION WANT GOT
    if [ "$2" != "$3" ]; then log "$label: $1: expected [$2], got [$3]"; fail=1; fi
  }
  norm() { awk '{ $1 = $1; print }'; }
  check "www A" "www.$Z. 300 IN A 192.0.2.10" "$(dq "$port" "www.$Z" A +noall +answer | norm)"
  check "www AAAA" "www.$Z. 300 IN AAAA 2001:db8::10" "$(dq "$port" "www.$Z" AAAA +noall +answer | norm)"
  check "MX" "$Z. 3600 IN MX 10 mail.$Z." "$(dq "$port" "$Z" MX +noall +answer | norm)"
  check "TXT" "txt.$Z. 3600 IN TXT \"a static TXT record\"" "$(dq "$port" "txt.$Z" TXT +noall +answer | norm)"
  got=$(dq "$port" "nothing.$Z" A +noall +comments +authority)
  check "NXDOMAIN rcode" NXDOMAIN "$(sed -n 's/.*status: \([A-Z]*\).*/\1/p' <<<"$got")"
  check "NXDOMAIN SOA" 1 "$(grep -c "^$Z\.[[:space:]].*SOA" <<<"$got" || true)"
  got=$(dq "$port" "pool.$Z" A +noall +comments +answer)
  check "pool flags" "qr aa" "$(sed -n 's/.*flags: \([a-z ]*\);.*/\1/p' <<<"$got")"
  : >"$work/seen"
  for _ in $(seq 40); do dq "$port" "pool.$Z" A +short >>"$work/seen"; done
  want=$(printf '%s\n' "${TARGETS[@]}")
  got=$(sort -u "$work/seen")
  check "pool answers over 40 queries (one A each, all 4 targets)" "$want / 40" "$got / $(wc -l <"$work/seen")"
  [ "$fail" = 0 ] || die "$label does not answer as expected; nothing measured"
  log "$label: answers verified"
}

# --- 5./6. measuring --------------------------------------------------------------------------------
declare -A QPS CPU BUSY OTHERS0 OTHERS1 P50 P99 LOST RSS SERVER PROFILE

# measure KEY SERVER_LABEL PROFILE_LABEL PID PORT QUERY_FILE [dnsperf args...]
measure() {
  local key=$1 server=$2 label=$3 pid=$4 port=$5 file=$6; shift 6
  local out="$work/dnsperf.out" t0 t1 c0 c1 z0 z1 o0 o1 d0 d1 pct
  log "$server: $label"
  child_seconds >"$work/d0"
  c0=$(ticks "$pid"); z0=$(cpu_ticks 0); o0=$(cpu_ticks 1); t0=$(now)
  "${CLIENT_CPU[@]}" dnsperf -s 127.0.0.1 -p "$port" -d "$file" -l "$DURATION" -c "$CLIENTS" -q "$OUTSTANDING" -v "$@" >"$out" 2>&1 ||
    { cat "$out" >&2; die "dnsperf failed"; }
  c1=$(ticks "$pid"); z1=$(cpu_ticks 0); o1=$(cpu_ticks 1); t1=$(now)
  child_seconds >"$work/d1"; d0=$(cat "$work/d0"); d1=$(cat "$work/d1")
  LOST[$key]=$(dnsperf_stat "$out" lost)
  QPS[$key]=$(dnsperf_stat "$out" qps)
  CPU[$key]=$(cpu_us $((c1 - c0)) "$(dnsperf_stat "$out" completed)")
  BUSY[$key]=$(awk -v t=$((c1 - c0)) -v hz="$CLK_TCK" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", t / hz / (b - a) * 100 }')
  # Other processes' CPU time on the server's core and on dnsperf's (a shared machine's noise).
  OTHERS0[$key]=n/a OTHERS1[$key]=n/a
  if [ "${#SERVER_CPU[@]}" != 0 ]; then
    OTHERS0[$key]=$(awk -v t=$((z1 - z0 - (c1 - c0))) -v hz="$CLK_TCK" -v a="$t0" -v b="$t1" \
      'BEGIN { t = t / hz; if (t < 0) t = 0; printf "%.0f %%", t / (b - a) * 100 }')
    OTHERS1[$key]=$(awk -v t=$((o1 - o0)) -v d="$(awk -v a="$d0" -v b="$d1" 'BEGIN { print b - a }')" -v hz="$CLK_TCK" -v a="$t0" -v b="$t1" \
      'BEGIN { t = t / hz - d; if (t < 0) t = 0; printf "%.0f %%", t / (b - a) * 100 }')
  fi
  pct=$(dnsperf_percentiles "$out" "0.5 0.99")
  P50[$key]=${pct% *}
  P99[$key]=${pct#* }
  RSS[$key]=$(rss_mib "$pid")
  SERVER[$key]=$server
  PROFILE[$key]=$label
  rm -f "$out"
}

warmup() { # warmup PORT: compiles/caches the query paths and lets the first health checks settle
  "${CLIENT_CPU[@]}" dnsperf -s 127.0.0.1 -p "$1" -d "$work/mixed.txt" -l "$WARMUP" -c "$CLIENTS" -q "$OUTSTANDING" >/dev/null 2>&1 || true
  "${CLIENT_CPU[@]}" dnsperf -s 127.0.0.1 -p "$1" -d "$work/mixed.txt" -l "$WARMUP" -c "$CLIENTS" -q "$OUTSTANDING" -E "$ECS_OPTION" >/dev/null 2>&1 || true
}

# profiles KEY LABEL PID PORT: the five profiles at full load
profiles() {
  local key=$1 label=$2 pid=$3 port=$4
  measure "$key/pool" "$label" pool "$pid" "$port" "$work/pool.txt"
  measure "$key/pool-ecs" "$label" "pool, $ECS_LABEL" "$pid" "$port" "$work/pool.txt" -E "$ECS_OPTION"
  measure "$key/static" "$label" static "$pid" "$port" "$work/static.txt"
  measure "$key/mixed" "$label" mixed "$pid" "$port" "$work/mixed.txt"
  measure "$key/mixed-ecs" "$label" "mixed, $ECS_LABEL" "$pid" "$port" "$work/mixed.txt" -E "$ECS_OPTION"
}
# at80 KEY LABEL PID PORT: the pool profile rate-limited to 80 % of that server's pool qps
at80() {
  local key=$1 label=$2 pid=$3 port=$4 rate
  rate=$(( ${QPS[$key/pool]} * 8 / 10 ))
  measure "$key/pool80" "$label" "pool at 80 % (-Q $rate)" "$pid" "$port" "$work/pool.txt" -Q "$rate"
}

start_time=$(date -u '+%Y-%m-%d %H:%M:%S UTC')
load_before=$(cut -d' ' -f1-3 /proc/loadavg)

# gslbd -------------------------------------------------------------------------------------------
workers_flag=()
grep -q -- '--workers' src/9-main/cli.ts && workers_flag=(--workers 1)
# GSLBD_IO=dgram measures gslbd on node:dgram; the default is gslbd's own (batched UDP where built).
[ -z "${GSLBD_IO:-}" ] || workers_flag+=(--io "$GSLBD_IO")
# start_gslbd POOLS_FILE NAME: sets gslbd_pid, gslbd_port
start_gslbd() {
  local pools=$1 name=$2 dir="$work/$2"
  mkdir -p "$dir/zones"
  cp "$CMP/bench.example.zone" "$dir/zones/bench.example.zone"
  cp "$pools" "$dir/zones/bench.example.pools.yaml"
  "${SERVER_CPU[@]}" env GSLBD_LOG_LEVEL=info "$NODE" --disable-warning=ExperimentalWarning src/9-main/cli.ts serve \
    --zones "$dir/zones" --listen 127.0.0.1:0 --data "$dir/data" "${workers_flag[@]}" 2>"$dir/log" &
  gslbd_pid=$!
  started+=("$gslbd_pid")
  gslbd_port=
  for _ in $(seq 300); do
    kill -0 "$gslbd_pid" 2>/dev/null || { cat "$dir/log" >&2; die "gslbd exited"; }
    gslbd_port=$({ grep -h '"msg":"listening"' "$dir/log" || true; } | head -1 | sed -n 's/.*"port":\([0-9]*\).*/\1/p')
    [ -n "$gslbd_port" ] && break
    sleep 0.1
  done
  [ -n "$gslbd_port" ] || die "gslbd did not start listening"
  wait_answering "$gslbd_pid" "$gslbd_port" || { cat "$dir/log" >&2; die "gslbd does not answer"; }
}

start_gslbd "$CMP/gslbd/bench.example.pools.yaml" gslbd
warmup "$gslbd_port"
verify gslbd "$gslbd_port"
profiles gslbd gslbd "$gslbd_pid" "$gslbd_port"
at80 gslbd gslbd "$gslbd_pid" "$gslbd_port"
stop_one "$gslbd_pid"

# gslbd with a geo-proximity pool: the geo database is loaded.
start_gslbd "$CMP/gslbd/geo.pools.yaml" gslbd-geo
warmup "$gslbd_port"
verify 'gslbd (geo pool)' "$gslbd_port"
got=$(dq "$gslbd_port" "pool.$Z" A +short +subnet=193.0.0.0/24)
[ "$got" = 127.0.0.31 ] || die "gslbd (geo pool): ECS 193.0.0.0/24 (Amsterdam) got [$got], expected 127.0.0.31"
measure gslbd-geo/pool-ecs 'gslbd, geo-proximity pool' "pool, $ECS_LABEL" "$gslbd_pid" "$gslbd_port" "$work/pool.txt" -E "$ECS_OPTION"
measure gslbd-geo/mixed-ecs 'gslbd, geo-proximity pool' "mixed, $ECS_LABEL" "$gslbd_pid" "$gslbd_port" "$work/mixed.txt" -E "$ECS_OPTION"
stop_one "$gslbd_pid"

# gdnsd -------------------------------------------------------------------------------------------
gdnsd_dir="$work/gdnsd"
mkdir -p "$gdnsd_dir/zones"
cat "$CMP/bench.example.zone" "$CMP/gdnsd/pool.rr" >"$gdnsd_dir/zones/bench.example"
gdnsd_pid=
for _ in 1 2 3; do
  gdnsd_port=$(free_port)
  sed -e "s|@LISTEN@|127.0.0.1:$gdnsd_port|" -e "s|@DIR@|$gdnsd_dir|g" "$CMP/gdnsd/config" >"$gdnsd_dir/config"
  "${SERVER_CPU[@]}" gdnsd -c "$gdnsd_dir" start >"$gdnsd_dir/log" 2>&1 &
  gdnsd_pid=$!
  started+=("$gdnsd_pid")
  wait_answering "$gdnsd_pid" "$gdnsd_port" && break
  stop_one "$gdnsd_pid"; gdnsd_pid=
done
[ -n "$gdnsd_pid" ] || { cat "$gdnsd_dir/log" >&2; die "gdnsd did not start"; }
warmup "$gdnsd_port"
verify gdnsd "$gdnsd_port"
gdnsd_version=$({ gdnsd -h 2>&1 || true; } | sed -n 's/^gdnsd version //p' | head -1)
profiles gdnsd "gdnsd $gdnsd_version" "$gdnsd_pid" "$gdnsd_port"
at80 gdnsd "gdnsd $gdnsd_version" "$gdnsd_pid" "$gdnsd_port"
stop_one "$gdnsd_pid"

# PowerDNS ----------------------------------------------------------------------------------------
pdns_dir="$work/pdns"
mkdir -p "$pdns_dir"
cat "$CMP/bench.example.zone" "$CMP/pdns/pool.rr" >"$pdns_dir/bench.example.zone"
pdns_version=$({ pdns_server --version 2>&1 || true; } | sed -n 's/.*PowerDNS Authoritative Server \([0-9.]*\).*/\1/p' | head -1)
pdns_pid=
for _ in 1 2 3; do
  pdns_port=$(free_port)
  for f in pdns.conf named.conf; do
    sed -e "s|@PORT@|$pdns_port|" -e "s|@DIR@|$pdns_dir|g" "$CMP/pdns/$f" >"$pdns_dir/$f"
  done
  "${SERVER_CPU[@]}" pdns_server --config-dir="$pdns_dir" --daemon=no --guardian=no >"$pdns_dir/log" 2>&1 &
  pdns_pid=$!
  started+=("$pdns_pid")
  wait_answering "$pdns_pid" "$pdns_port" && break
  stop_one "$pdns_pid"; pdns_pid=
done
[ -n "$pdns_pid" ] || { cat "$pdns_dir/log" >&2; die "pdns_server did not start"; }
warmup "$pdns_port"
verify PowerDNS "$pdns_port"
profiles pdns "PowerDNS $pdns_version LUA" "$pdns_pid" "$pdns_port"
at80 pdns "PowerDNS $pdns_version LUA" "$pdns_pid" "$pdns_port"
stop_one "$pdns_pid"

# Knot DNS: static profile only (it has no pools) ------------------------------------------------
knot_version=
if command -v knotd >/dev/null; then
  knot_dir="$work/knot"
  mkdir -p "$knot_dir/run" "$knot_dir/storage"
  cp "$CMP/bench.example.zone" "$knot_dir/bench.example.zone"
  knot_pid=
  for _ in 1 2 3; do
    knot_port=$(free_port)
    cat >"$knot_dir/knot.conf" <<CONF
server:
    rundir: "$knot_dir/run"
    listen: 127.0.0.1@$knot_port
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
log:
  - target: stderr
    any: warning
database:
    storage: "$knot_dir/storage"
template:
  - id: default
    storage: "$knot_dir/storage"
    zonefile-sync: -1
    zonefile-load: whole
    journal-content: none
zone:
  - domain: bench.example.
    file: "$knot_dir/bench.example.zone"
CONF
    "${SERVER_CPU[@]}" knotd -c "$knot_dir/knot.conf" >"$knot_dir/log" 2>&1 &
    knot_pid=$!
    started+=("$knot_pid")
    wait_answering "$knot_pid" "$knot_port" && break
    stop_one "$knot_pid"; knot_pid=
  done
  if [ -n "$knot_pid" ]; then
    knot_version=$({ knotd -V || true; } | awk '{ print $NF }')
    "${CLIENT_CPU[@]}" dnsperf -s 127.0.0.1 -p "$knot_port" -d "$work/static.txt" -l "$WARMUP" >/dev/null 2>&1 || true
    measure knot/static "Knot DNS $knot_version" 'static, 1 UDP worker' "$knot_pid" "$knot_port" "$work/static.txt"
    stop_one "$knot_pid"
  else
    log "knotd did not start; no Knot anchor"; cat "$knot_dir/log" >&2
  fi
fi

stop_one "$listeners"
end_time=$(date -u '+%H:%M:%S UTC')
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# --- report ---------------------------------------------------------------------------------------
# para TEXT...: one Markdown paragraph, wrapped at 100 columns like the rest of RESULTS.md
para() { echo "$*" | fold -s -w 100 | sed 's/[[:space:]]*$//'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
# verdict VALUE OP LIMIT: "met", or "missed" and by how much
verdict() {
  awk -v v="$1" -v op="$2" -v l="$3" 'BEGIN {
    if (v == "n/a" || v == "") { print "not measured"; exit }
    if ((op == "<=" && v <= l) || (op == ">=" && v >= l)) { print "**met**"; exit }
    if (op == "<=") printf "**missed**: %g, %.1f× the limit of %g (%.0f %% over)\n", v, v / l, l, (v / l - 1) * 100
    else printf "**missed**: %g, %.0f %% of the target %g (%.1f× short)\n", v, v / l * 100, l, l / v }'
}

gslbd_rev=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(git status --porcelain src 2>/dev/null | wc -l)
[ "$dirty" = 0 ] || gslbd_rev="$gslbd_rev + $dirty uncommitted file(s) under src/"

pool_cpu=$(ratio "${CPU[gslbd/pool]}" "${CPU[gdnsd/pool]}")
pool_ecs_cpu=$(ratio "${CPU[gslbd/pool-ecs]}" "${CPU[gdnsd/pool-ecs]}")
pool_qps=$(ratio "${QPS[gslbd/pool]}" "${QPS[pdns/pool]}")
pool_ecs_qps=$(ratio "${QPS[gslbd/pool-ecs]}" "${QPS[pdns/pool-ecs]}")
static_gdnsd=$(ratio "${CPU[gslbd/static]}" "${CPU[gdnsd/static]}")
static_knot=n/a
[ -n "${CPU[knot/static]:-}" ] && static_knot=$(ratio "${CPU[gslbd/static]}" "${CPU[knot/static]}")
geo_rss=$(awk -v m="${RSS[gslbd-geo/mixed-ecs]}" 'BEGIN { printf "%.0f", m * 1.048576 }')

{
  echo
  echo "## Side by side: gslbd, gdnsd, PowerDNS (bench/compare.sh)"
  echo
  echo '```sh'
  echo "bench/compare.sh        # DURATION=$DURATION CLIENTS=$CLIENTS OUTSTANDING=$OUTSTANDING"
  echo '```'
  echo
  para "Measured $start_time – $end_time (\`date -u\`); load average $load_before before, $load_after after."
  echo
  para "**Machine:** $(nproc) CPUs (\`nproc\`), \`lscpu\` model name \"$(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -1)\"," \
    "$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) RAM, kernel $(uname -r)."
  para "**Versions:** gslbd $gslbd_rev (Node.js $("$NODE" --version), \`--workers 1\`)," \
    "gdnsd $gdnsd_version, PowerDNS Authoritative $pdns_version (bind backend)," \
    "${knot_version:+Knot DNS $knot_version, }$({ dnsperf -h 2>&1 || true; } | sed -n 's/^Version /dnsperf /p' | head -1)."
  echo
  para "Zone \`bench/compare/bench.example.zone\` on each server, plus \`pool.bench.example.\` over" \
    "127.0.0.31-34, TCP-checked on port $CHECK_PORT every 2 s (listeners started by the script): gslbd" \
    "\`weighted\` (equal weights, 1 answer), gdnsd plugin \`weighted\` (\`tcp_connect\`, 1 answer), PowerDNS" \
    "LUA \`ifportup\` (\`enable-lua-records=shared\`, 1 answer at random). Each server alone on CPU 0" \
    "(\`taskset -c 0\`; gslbd \`--workers 1\`, gdnsd 1 UDP + 1 TCP thread, PowerDNS 1 receiver + 1" \
    "distributor thread), dnsperf on CPU 1: \`dnsperf -l $DURATION -c $CLIENTS -q $OUTSTANDING -v\` over UDP" \
    "on 127.0.0.1 after a ${WARMUP} s + ${WARMUP} s warm-up; answers checked with dig first. Profiles: **pool**" \
    "\`pool A\`; **static** \`www A\`, \`www AAAA\`, \`bench.example MX\`, \`txt TXT\`; **mixed** 4 × \`pool A\`," \
    "the 4 static queries, 2 NXDOMAIN (40/40/20 %); **ECS** runs add \`-E $ECS_OPTION\` ($ECS_LABEL) to" \
    "every query of the run. **80 %** runs: the pool profile with \`-Q\` at 80 % of that server's own" \
    "pool qps. CPU µs/query: the server's utime+stime (all threads) over the run / queries answered;" \
    "busy: that CPU time / wall time (100 % = its core was saturated; less = the load generator" \
    "was the limit); others on CPU 0 / 1: user+system time of every other process on the server's core" \
    "and on dnsperf's (from /proc/stat; a shared machine's noise). p50/p99 from dnsperf's per-query lines. Peak RSS: VmHWM so far."
  echo
  echo '| server | profile | qps | server CPU µs/query | busy | others on CPU 0 / 1 | p50 / p99 ms | lost | peak RSS MiB |'
  echo '|---|---|---:|---:|---:|---:|---|---:|---:|'
  # grouped by profile, so the servers of one profile are next to each other
  for p in pool pool-ecs static mixed mixed-ecs pool80; do
    for s in gslbd gslbd-geo gdnsd pdns knot; do
      k=$s/$p
      [ -n "${QPS[$k]:-}" ] || continue
      echo "| ${SERVER[$k]} | ${PROFILE[$k]} | ${QPS[$k]} | ${CPU[$k]} | ${BUSY[$k]} % | ${OTHERS0[$k]} / ${OTHERS1[$k]} | ${P50[$k]} / ${P99[$k]} | ${LOST[$k]} | ${RSS[$k]} |"
    done
  done
  echo
  echo '| target (issue 6) | measured | result |'
  echo '|---|---|---|'
  echo "| pool answers: CPU/query ≤ 2.0× gdnsd's | ${CPU[gslbd/pool]} / ${CPU[gdnsd/pool]} µs = **${pool_cpu}×** (with ECS: ${CPU[gslbd/pool-ecs]} / ${CPU[gdnsd/pool-ecs]} = ${pool_ecs_cpu}×) | $(verdict "$pool_cpu" '<=' 2.0) |"
  echo "| pool answers: qps ≥ 3× PowerDNS-LUA's | ${QPS[gslbd/pool]} / ${QPS[pdns/pool]} = **${pool_qps}×** (with ECS: ${QPS[gslbd/pool-ecs]} / ${QPS[pdns/pool-ecs]} = ${pool_ecs_qps}×) | $(verdict "$pool_qps" '>=' 3.0) |"
  echo "| static answers: CPU/query ≤ 1.8× gdnsd's | ${CPU[gslbd/static]} / ${CPU[gdnsd/static]} µs = **${static_gdnsd}×** | $(verdict "$static_gdnsd" '<=' 1.8) |"
  [ "$static_knot" = n/a ] ||
    echo "| static answers: CPU/query ≤ 1.8× Knot's | ${CPU[gslbd/static]} / ${CPU[knot/static]} µs = **${static_knot}×** | $(verdict "$static_knot" '<=' 1.8) |"
  echo "| p99 latency at 80 % of the maximum ≤ 2 ms (pool) | gslbd **${P99[gslbd/pool80]} ms** at ${QPS[gslbd/pool80]} qps (gdnsd ${P99[gdnsd/pool80]} ms, PowerDNS ${P99[pdns/pool80]} ms) | $(verdict "${P99[gslbd/pool80]}" '<=' 2) |"
  echo "| peak RSS with the geo database ≤ 200 MB per worker | gslbd, geo-proximity pool: **${RSS[gslbd-geo/mixed-ecs]} MiB** = $geo_rss MB (no geo pool: ${RSS[gslbd/pool80]} MiB) | $(verdict "$geo_rss" '<=' 200) |"
} >"$work/section.md"

cat "$work/section.md"
if [ -n "$RESULTS_FILE" ]; then
  cat "$work/section.md" >>"$RESULTS_FILE"
  log "appended to $RESULTS_FILE"
fi
