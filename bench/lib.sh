# Shared by the bench/*.sh scripts (sourced from the repository root, not run): Node 24, CPU
# pinning, CPU ticks and peak RSS of a process, and what a dnsperf run printed.

NODE=$(scripts/node24.sh sh -c 'command -v node')
CLK_TCK=$(getconf CLK_TCK)

# Prefixes that pin a command to CPU 0 (servers) or CPU 1 (dnsperf), when there are two CPUs and
# taskset. Arrays, not functions: a function run with & is a subshell, and $! its PID.
SERVER_CPU=() CLIENT_CPU=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then SERVER_CPU=(taskset -c 0) CLIENT_CPU=(taskset -c 1); fi

# utime + stime of a process, in clock ticks
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# peak RSS (VmHWM) of a process, MiB
rss_mib() { awk '/VmHWM/ { printf "%.0f", $2 / 1024 }' "/proc/$1/status"; }
# cpu_us TICKS COMPLETED: CPU µs per answered query
cpu_us() { awk -v t="$1" -v hz="$CLK_TCK" -v n="$2" 'BEGIN { printf "%.1f", (n > 0 ? t / hz * 1e6 / n : 0) }'; }

machine_line() {
  echo "machine: $(nproc) CPUs, $(lscpu | sed -n 's/^Model name:[[:space:]]*//p'), $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) RAM, kernel $(uname -r), node $("$NODE" --version), $(dnsperf -h 2>&1 | sed -n 's/^Version /dnsperf /p' | head -1)"
}

# dnsperf_stat FILE completed|lost|qps|avg|sd: one figure of dnsperf's summary (latencies in ms)
dnsperf_stat() {
  case $2 in
    completed) awk '/Queries completed:/ { print $3 }' "$1" ;;
    lost) awk '/Queries lost:/ { print $3 }' "$1" ;;
    qps) awk '/Queries per second:/ { printf "%.0f", $4 }' "$1" ;;
    avg) awk '/Average Latency/ { printf "%.2f", $4 * 1000 }' "$1" ;;
    sd) awk '/Latency StdDev/ { printf "%.2f", $4 * 1000 }' "$1" ;;
  esac
}

# dnsperf_percentiles FILE "0.5 0.99 ...": latency percentiles in ms, space-separated, from the
# per-query lines of `dnsperf -v`; counted per microsecond, so millions of lines need no sort.
dnsperf_percentiles() {
  awk '/^> / { c[int($NF * 1e6 + 0.5)]++ } END { for (k in c) print k, c[k] }' "$1" | sort -n |
    awk -v qs="$2" '{ v[NR] = $1; c[NR] = $2; n += $2 } END {
      m = split(qs, q, " ")
      for (j = 1; j <= m; j++) {
        if (n == 0) { out = out (j > 1 ? " " : "") "n/a"; continue }
        want = q[j] * n; s = 0
        for (i = 1; i <= NR; i++) { s += c[i]; if (s >= want) break }
        out = out (j > 1 ? " " : "") sprintf("%.2f", v[i] / 1000)
      }
      print out }'
}

# example_queries DIR: DIR/static.txt, questions about zones/example.com (answers, NODATA and
# NXDOMAIN), and DIR/pools.txt, an A question for every pool of zones/gslb.example.com.pools.yaml.
example_queries() {
  printf '%s\n' 'www.example.com A' 'www.example.com AAAA' 'example.com MX' 'nothing.example.com A' 'missing.example.com AAAA' \
    >"$1/static.txt"
  sed -n 's/^\([a-z0-9-]*\):.*/\1.gslb.example.com A/p' zones/gslb.example.com.pools.yaml >"$1/pools.txt"
}

# A scratch directory ($work) and the PIDs this script starts ($started, appended by the caller):
# on exit or Ctrl-C each is stopped by its PID and the directory removed. Call once, first.
track_started() {
  work=$(mktemp -d)
  started=()
  trap stop_started EXIT
  trap 'exit 130' INT TERM
}
stop_started() {
  local pid
  for pid in "${started[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${started[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}

# stop_one PID: stops one process this script started and forgets its PID (once reaped, the PID may
# be reused).
stop_one() {
  local pid=$1 keep=() p
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  for p in "${started[@]}"; do [ "$p" = "$pid" ] || keep+=("$p"); done
  started=("${keep[@]}")
}

# start_pool_targets PORT ADDRESS...: bench/compare's pool targets, TCP listeners on each ADDRESS
# at PORT (bench/compare/listeners.ts), started and waited for; $listeners is their PID. Each
# script defines `die`.
start_pool_targets() {
  local port=$1 t
  shift
  for t in "$@"; do
    [ -z "$(ss -Hlnt "src $t:$port")" ] || die "$t:$port is in use (another benchmark running?)"
  done
  "$NODE" bench/compare/listeners.ts "$port" "$@" >"$work/listeners.log" 2>&1 &
  listeners=$!
  started+=("$listeners")
  for _ in $(seq 100); do grep -q '"listening"' "$work/listeners.log" && break; kill -0 "$listeners" 2>/dev/null || break; sleep 0.1; done
  grep -q '"listening"' "$work/listeners.log" || { cat "$work/listeners.log" >&2; die "the target listeners did not start"; }
}

# gslbd_port PID LOG WORKERS: waits until the gslbd started as PID (its log in LOG) answers, its
# workers too when WORKERS > 1, and prints the port it listens on; exits the script if gslbd exits.
gslbd_port() {
  local pid=$1 log=$2 ready='"msg":"listening"'
  [ "$3" -gt 1 ] && ready='"msg":"workers ready"'
  for _ in $(seq 300); do
    kill -0 "$pid" 2>/dev/null || { echo "gslbd exited:" >&2; cat "$log" >&2; exit 1; }
    grep -q "$ready" "$log" && break
    sleep 0.1
  done
  grep -h '"msg":"listening"' "$log" | head -1 | sed -n 's/.*"port":\([0-9]*\).*/\1/p'
}

# user + system seconds of this shell's waited-for children so far (dnsperf's CPU time). `times`
# runs in this shell (a command substitution would report its own subshell's children).
child_seconds() { times >"$work/times"; awk 'NR == 2 { for (i = 1; i <= 2; i++) { split($i, t, "m"); s += t[1] * 60 + t[2] } print s }' "$work/times"; }

# answering PORT: bench/compare's zone answers its SOA on 127.0.0.1 PORT
answering() { dig @127.0.0.1 -p "$1" +norec +tries=1 +timeout=1 +short bench.example SOA 2>/dev/null | grep -q hostmaster; }
