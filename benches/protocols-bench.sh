#!/usr/bin/env bash
# protocols-bench.sh — smps-load's protocols beside their peers, in one run (issue 15).
# The server runs pinned to CPU 0 (`protocol-servers`: the reference server with h2c, gRPC
# health, and the TCP/UDP echo servers; or, with --nginx, a private nginx with `http2 on;` for
# the HTTP/2 part, h2c on a plain listener), each client pinned to CPU 1 under /usr/bin/time, loopback only. Parts:
#
#   h2     HTTP/2 closed loop, GET /hello: h2load -c C -m 10 vs loadgen -c C -m 10 --http2,
#          C = 16 and 64 (req/s, client CPU µs per request, peak RSS)
#   grpc   gRPC unary grpc.health.v1.Health/Check, same shape: h2load driving the call as a
#          POST (content-type application/grpc, te: trailers, the 5-byte framed empty request
#          from a file) vs loadgen grpc://
#   echo   TCP and UDP echo (24-byte payloads): loadgen -c 1 and -c 16 vs the minimal
#          blocking client `echo-baseline` (one write + one read per round trip), -n N each
#   open   open loop at 20,000 req/s for -d seconds on every protocol: requests sent vs
#          planned (the goal: within 0.1 %), dispatch lag, client CPU
#   rss    peak RSS of 1M- and 10M-request closed-loop runs on every protocol (flat memory;
#          --rss-n "N1 N2" sets other request counts, e.g. for a smoke run)
#   all    h2 grpc echo open rss (default)
#
# Usage: benches/protocols-bench.sh [h2|grpc|echo|open|rss|all] [-r REPS] [-d SECS] [-n REQS]
#        [--rss-n "N1 N2 ..."] [--nginx] [--out DIR]
# Needs: h2load (Debian package nghttp2-client: `apt-get install nghttp2-client`) for h2 and
# grpc; nginx for --nginx. Builds loadgen, protocol-servers and echo-baseline in release first.
# Output: one TSV per part under --out (default /tmp/smps-protocols.XXXX) plus summary.md.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
PART=all; REPS=3; DUR=10; REQS=1000000; OUT=""; NGINX=0; RSS_N="1000000 10000000"
if [ $# -gt 0 ] && [[ "$1" =~ ^(h2|grpc|echo|open|rss|all)$ ]]; then PART=$1; shift; fi
while [ $# -gt 0 ]; do
  case "$1" in
    -r) REPS=$2; shift 2;;
    -d) DUR=$2; shift 2;;
    -n) REQS=$2; shift 2;;
    --rss-n) RSS_N=$2; shift 2;;
    --nginx) NGINX=1; shift;;
    --out) OUT=$2; shift 2;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 0;;
    *) echo "unknown option $1" >&2; exit 2;;
  esac
done
want() { [ "$PART" = all ] || [ "$PART" = "$1" ]; }
[ -n "$OUT" ] || OUT=$(mktemp -d /tmp/smps-protocols.XXXXXX)
mkdir -p "$OUT"
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
# PROFILE=debug only to check the script itself quickly (numbers are then meaningless).
PROFILE=${PROFILE:-release}
PFLAG=(--release); [ "$PROFILE" = release ] || PFLAG=()
(cd "$ROOT" && cargo build "${PFLAG[@]}" -q -p examples --example loadgen \
  && cargo build "${PFLAG[@]}" -q -p benches --example protocol-servers --example echo-baseline)
GEN="$TARGET/$PROFILE/examples/loadgen"
SERVERS="$TARGET/$PROFILE/examples/protocol-servers"
FLOOR="$TARGET/$PROFILE/examples/echo-baseline"
if { want h2 || want grpc; } && ! command -v h2load >/dev/null; then
  echo "h2load not found: apt-get install nghttp2-client (or run the echo/open/rss parts)" >&2
  exit 2
fi

# ---------- servers ----------
SRV_PID=""; NGINX_PID=""; FIFO="$OUT/servers.stdin"
cleanup() {
  [ -n "$SRV_PID" ] && kill "$SRV_PID" 2>/dev/null || true
  [ -n "$NGINX_PID" ] && kill "$NGINX_PID" 2>/dev/null || true
  exec 3>&- 2>/dev/null || true
}
trap cleanup EXIT
mkfifo "$FIFO"
taskset -c 0 "$SERVERS" --max-streams 256 < "$FIFO" > "$OUT/servers.txt" &
SRV_PID=$!
exec 3>"$FIFO"   # the servers run until this descriptor closes
for _ in $(seq 50); do [ -s "$OUT/servers.txt" ] && [ "$(wc -l < "$OUT/servers.txt")" -ge 3 ] && break; sleep 0.1; done
HTTP=$(awk '/^http/{print $2}' "$OUT/servers.txt")
TCP=$(awk '/^tcp/{print $2}' "$OUT/servers.txt")
UDP=$(awk '/^udp/{print $2}' "$OUT/servers.txt")
[ -n "$HTTP" ] && [ -n "$TCP" ] && [ -n "$UDP" ] || { echo "protocol-servers did not start" >&2; exit 2; }
H2_HOST=$HTTP
if [ "$NGINX" = 1 ]; then
  NG="$OUT/nginx"; mkdir -p "$NG/tmp"
  cat > "$NG/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $NG/nginx.pid;
error_log $NG/error.log warn;
events { worker_connections 8192; }
http {
    access_log off;
    client_body_temp_path $NG/tmp/body; proxy_temp_path $NG/tmp/proxy;
    fastcgi_temp_path $NG/tmp/fastcgi; uwsgi_temp_path $NG/tmp/uwsgi; scgi_temp_path $NG/tmp/scgi;
    keepalive_requests 10000000;
    http2_max_concurrent_streams 256;
    server {
        # h2c prior knowledge on a plain listener (nginx 1.22 spelling; 1.25.1+ also takes
        # `http2 on;`).
        listen 127.0.0.1:18095 http2;
        location = /hello { default_type text/plain; return 200 "hello\n"; }
    }
}
EOF
  taskset -c 0 nginx -c "$NG/nginx.conf" -p "$NG/" -e "$NG/error.log" &
  NGINX_PID=$!
  sleep 0.5
  H2_HOST=127.0.0.1:18095
fi
echo "servers: http $HTTP tcp $TCP udp $UDP; HTTP/2 part against $H2_HOST; out=$OUT" >&2

# ---------- one measured client run ----------
# run NAME CMD...: pinned to CPU 1; appends tool, req/s, requests, cpu s, µs/req, max RSS KiB.
run() {
  local name=$1; shift
  local dir="$OUT/runs/$name"; mkdir -p "$dir"
  /usr/bin/time -f '%U %S %M' -o "$dir/time.txt" taskset -c 1 "$@" > "$dir/out.txt" 2>&1 || true
  local rps reqs
  rps=$(sed -n -e 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' -e 's/^finished in [^,]*, \([0-9.]*\) req\/s.*/\1/p' "$dir/out.txt" | head -1)
  reqs=$(sed -n -e 's/^\([0-9]*\) requests in.*/\1/p' -e 's/^requests: [0-9]* total, [0-9]* started, \([0-9]*\) done.*/\1/p' "$dir/out.txt" | head -1)
  read -r user sys rss < "$dir/time.txt"
  python3 - "$name" "${rps:-0}" "${reqs:-0}" "$user" "$sys" "$rss" <<'PY'
import sys
name, rps, reqs, user, sys_, rss = sys.argv[1:]
cpu = float(user) + float(sys_)
reqs = int(reqs or 0)
us = cpu / reqs * 1e6 if reqs else float("nan")
print(f"{name}\t{float(rps):.0f}\t{reqs}\t{cpu:.2f}\t{us:.2f}\t{rss}")
PY
}
header() { printf 'run\treq_per_s\trequests\tclient_cpu_s\tcpu_us_per_req\tmax_rss_kib\n'; }

if want h2; then
  header > "$OUT/h2.tsv"
  for r in $(seq "$REPS"); do
    for c in 16 64; do
      run "h2load-c$c-m10-r$r" h2load -c "$c" -m 10 -t 1 -D "$DUR" "http://$H2_HOST/hello" >> "$OUT/h2.tsv"
      run "smps-load-c$c-m10-r$r" "$GEN" -c "$c" -m 10 --http2 -d "$DUR" "http://$H2_HOST/hello" >> "$OUT/h2.tsv"
    done
  done
fi

if want grpc; then
  printf '\x00\x00\x00\x00\x00' > "$OUT/health-request.bin"
  header > "$OUT/grpc.tsv"
  for r in $(seq "$REPS"); do
    for c in 16 64; do
      run "h2load-grpc-c$c-m10-r$r" h2load -c "$c" -m 10 -t 1 -D "$DUR" -d "$OUT/health-request.bin" \
        -H 'content-type: application/grpc' -H 'te: trailers' \
        "http://$HTTP/grpc.health.v1.Health/Check" >> "$OUT/grpc.tsv"
      run "smps-load-grpc-c$c-m10-r$r" "$GEN" -c "$c" -m 10 -d "$DUR" "grpc://$HTTP" >> "$OUT/grpc.tsv"
    done
  done
fi

if want echo; then
  header > "$OUT/echo.tsv"
  for r in $(seq "$REPS"); do
    for p in tcp udp; do
      addr=$TCP; [ "$p" = udp ] && addr=$UDP
      run "blocking-$p-c1-r$r" "$FLOOR" "$p" "$addr" -n "$REQS" >> "$OUT/echo.tsv"
      run "smps-load-$p-c1-r$r" "$GEN" -c 1 -n "$REQS" "$p://$addr" >> "$OUT/echo.tsv"
      run "smps-load-$p-c16-r$r" "$GEN" -c 16 -n "$REQS" "$p://$addr" >> "$OUT/echo.tsv"
    done
  done
fi

if want open; then
  printf 'protocol\tplanned\tsent\tdeviation_pct\tdispatch_lag\tclient_cpu_s\n' > "$OUT/open.tsv"
  planned=$((20000 * DUR))
  for p in http2 grpc tcp udp; do
    case $p in
      http2) args=(--http2 -m 10 "http://$HTTP/hello");;
      grpc) args=(-m 10 "grpc://$HTTP");;
      tcp) args=("tcp://$TCP");;
      udp) args=("udp://$UDP");;
    esac
    dir="$OUT/runs/open-$p"; mkdir -p "$dir"
    /usr/bin/time -f '%U %S %M' -o "$dir/time.txt" taskset -c 1 "$GEN" -c 64 -q 20000 -d "$DUR" "${args[@]}" > "$dir/out.txt" 2>&1 || true
    sent=$(sed -n 's/^\([0-9]*\) requests in.*/\1/p' "$dir/out.txt")
    lag=$(sed -n 's/^Dispatch lag //p' "$dir/out.txt")
    read -r user sys _ < "$dir/time.txt"
    python3 -c "import sys; s=int('${sent:-0}'); print(f'$p\t$planned\t{s}\t{(s/$planned-1)*100:+.3f}\t$lag\t{$user+$sys:.2f}')" >> "$OUT/open.tsv"
  done
fi

if want rss; then
  header > "$OUT/rss.tsv"
  for n in $RSS_N; do
    run "rss-http2-$n" "$GEN" -c 16 -m 10 --http2 -n "$n" "http://$HTTP/hello" >> "$OUT/rss.tsv"
    run "rss-grpc-$n" "$GEN" -c 16 -m 10 -n "$n" "grpc://$HTTP" >> "$OUT/rss.tsv"
    run "rss-tcp-$n" "$GEN" -c 16 -n "$n" "tcp://$TCP" >> "$OUT/rss.tsv"
    run "rss-udp-$n" "$GEN" -c 16 -n "$n" "udp://$UDP" >> "$OUT/rss.tsv"
  done
fi

{
  echo "# protocols-bench $(date -u +%FT%TZ) commit $(cd "$ROOT" && git rev-parse --short HEAD)"
  for f in h2 grpc echo open rss; do
    [ -f "$OUT/$f.tsv" ] || continue
    echo; echo "## $f"; echo; column -t -s $'\t' "$OUT/$f.tsv"
  done
} | tee "$OUT/summary.md"
