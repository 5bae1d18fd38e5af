#!/usr/bin/env bash
# distributed.sh — issue 16: one load run as N local parts (separate `smps run --segment k/N
# --start-at T` processes, merged by `smps merge`) beside one run of the whole load, against a
# private nginx on 127.0.0.1 pinned to CPU 0 (../shared/tools/loadbench.sh serve); the clients
# are pinned to CPU 1. Counts, corrected percentiles and client CPU per run.
#
# Usage: benches/distributed.sh [--parts 4] [--rps 2000] [--connections 16] [--duration 10] [--reps 2]
# Env:   LOADBENCH=path/to/loadbench.sh (default ../shared/tools/loadbench.sh next to the repo)
#        SMPS_BIN=path/to/smps (default: build target/release/examples/smps)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
LB=${LOADBENCH:-$(cd "$ROOT/.." && pwd)/shared/tools/loadbench.sh}
[ -f "$LB" ] || { echo "loadbench.sh not found at $LB (set LOADBENCH)" >&2; exit 2; }
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
SMPS=${SMPS_BIN:-}
if [ -z "$SMPS" ]; then
  (cd "$ROOT" && cargo build --release -q -p examples --example smps)
  SMPS="$TARGET/release/examples/smps"
fi
PORT=18080
OUT=$(mktemp -d /tmp/smps-distributed.XXXXXX)
bash "$LB" --port "$PORT" --out "$OUT/nginx" --no-install serve -d 600 >"$OUT/serve.log" 2>&1 &
SERVE=$!
# loadbench.sh stops its nginx by PID when it exits; it is waiting in `sleep`, so end that
# child of ours too (by parent PID) for the TERM to be handled at once.
trap 'kill "$SERVE" 2>/dev/null || true; pkill -P "$SERVE" -x sleep 2>/dev/null || true' EXIT
UP=0
for _ in $(seq 100); do
  if curl -fsS "http://127.0.0.1:$PORT/hello" >/dev/null 2>&1; then UP=1; break; fi
  sleep 0.1
done
[ "$UP" = 1 ] || { echo "nginx did not come up:" >&2; cat "$OUT/serve.log" >&2; exit 2; }
taskset -c 1 python3 "$HERE/distributed-compare.py" "$SMPS" "http://127.0.0.1:$PORT/hello" --out "$OUT" "$@"
