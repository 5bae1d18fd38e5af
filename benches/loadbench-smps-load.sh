#!/usr/bin/env bash
# loadbench-smps-load.sh — peer comparison of smps-load (through the `loadgen` example) with
# wrk, oha and hey, using ../shared/tools/loadbench.sh (nginx pinned to CPU 0, clients on CPU 1,
# loopback only). Four parts, each optional:
#
#   closed   closed loop at c = 1 16 64 256, interleaved with the baselines (req/s, client CPU µs/req)
#   open     open-loop accuracy at 10k and 50k req/s (achieved vs planned, tool and nginx counts)
#   rss      peak RSS of a 10-million-request run (and of a 1-million one, to show it is flat)
#   transport  the transport choice: reqwest (benches example `reqwest-loop`) and smps-load over
#            hyper (`loadgen --hyper`), each beside wrk, at c = 1 16 64 256
#   pacing   open-loop precision at 1k, 10k and 50k req/s (c = 64) beside oha -q
#            --latency-correction: reported latency, service time and dispatch lag p50/p99, and
#            client CPU per request. With GEN_BEFORE="path/to/an/older/loadgen [args]", the
#            same runs of that command too (before/after a change, or
#            GEN_BEFORE="target/release/examples/loadgen --coarse-pacing"). Then the floor:
#            `timer-floor` (benches example), a bare timerfd wake-up per gap, lag and CPU per
#            wake-up (timer-floor.tsv). Not part of `all`.
#   all      closed, open, rss and transport (default)
#
# Usage: benches/loadbench-smps-load.sh [closed|open|rss|transport|all] [-r REPS] [-d SECS] [--out DIR]
#        [--no-idle-wait]
# Env:   LOADBENCH=path/to/loadbench.sh (default ../shared/tools/loadbench.sh next to the repo)
#
# Builds `target/release/examples/loadgen` first (cargo, release). Results: one directory per
# part under --out (default /tmp/smps-load-bench.XXXX), each with loadbench's runs.tsv and
# summary, plus rss.tsv for the RSS part.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
LB=${LOADBENCH:-$(cd "$ROOT/.." && pwd)/shared/tools/loadbench.sh}
PART=all; REPS=3; DUR=10; OUT=""; IDLE=()
if [ $# -gt 0 ] && [[ "$1" =~ ^(closed|open|rss|transport|pacing|all)$ ]]; then PART=$1; shift; fi
while [ $# -gt 0 ]; do
  case "$1" in
    -r) REPS=$2; shift 2;;
    -d) DUR=$2; shift 2;;
    --out) OUT=$2; shift 2;;
    --no-idle-wait) IDLE=(--no-idle-wait); shift;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 0;;
    *) echo "unknown option $1" >&2; exit 2;;
  esac
done
[ -x "$LB" ] || [ -f "$LB" ] || { echo "loadbench.sh not found at $LB (set LOADBENCH)" >&2; exit 2; }
[ -n "$OUT" ] || OUT=$(mktemp -d /tmp/smps-load-bench.XXXXXX)
mkdir -p "$OUT"
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
(cd "$ROOT" && cargo build --release -q -p examples --example loadgen)
GEN="$TARGET/release/examples/loadgen"
[ -x "$GEN" ] || { echo "build did not produce $GEN" >&2; exit 2; }
BASE="wrk hey"
if command -v oha >/dev/null || [ -x "$HOME/.cargo/bin/oha" ]; then BASE="wrk oha hey"; fi
echo "smps-load bench: parts=$PART reps=$REPS duration=${DUR}s baselines='$BASE' out=$OUT" >&2

if [ "$PART" = closed ] || [ "$PART" = all ]; then
  bash "$LB" --out "$OUT/closed" "${IDLE[@]}" compare -c "1 16 64 256" -d "$DUR" -r "$REPS" -b "$BASE" -- \
    "$GEN" -c '{c}' -d '{d}' '{url}' | tee "$OUT/closed.summary.md"
fi

if [ "$PART" = open ] || [ "$PART" = all ]; then
  for q in 10000 50000; do
    bash "$LB" --out "$OUT/open-$q" "${IDLE[@]}" compare -c 64 -q "$q" -d "$DUR" -r "$REPS" -b "$(echo "$BASE" | sed 's/wrk//')" -- \
      "$GEN" -c '{c}' -d '{d}' -q '{q}' '{url}' | tee "$OUT/open-$q.summary.md"
    echo "planned: $q req/s for ${DUR}s = $((q * DUR)) requests; achieved per smps-load run:" | tee -a "$OUT/open-$q.summary.md"
    for d in "$OUT/open-$q"/runs/cmd-*; do
      [ -d "$d" ] || continue
      n=$(sed -n 's/^\([0-9]*\) requests in.*/\1/p' "$d/out.txt")
      rps=$(sed -n 's/^Requests\/sec: //p' "$d/out.txt")
      echo "  $(basename "$d"): $n requests, $rps req/s ($(python3 -c "print(f'{($rps/$q-1)*100:+.3f} %')"))" | tee -a "$OUT/open-$q.summary.md"
    done
  done
fi

if [ "$PART" = rss ] || [ "$PART" = all ]; then
  printf 'requests\tmax_rss_kib\tclient_cpu_s\treq_per_s\n' > "$OUT/rss.tsv"
  for n in 1000000 10000000; do
    bash "$LB" --out "$OUT/rss-$n" "${IDLE[@]}" run -c 64 -d 600 -- "$GEN" -c 64 -n "$n" '{url}' > "$OUT/rss-$n.summary.md"
    d=$(ls -d "$OUT/rss-$n"/runs/cmd-* | head -1)
    rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$d/time.txt")
    cpu=$(python3 -c "import re;t=open('$d/time.txt').read();g=lambda k: float(re.search(k+r'\): ([0-9.]+)',t).group(1));print(round(g(r'User time \(seconds')+g(r'System time \(seconds'),2))")
    rps=$(sed -n 's/^Requests\/sec: //p' "$d/out.txt")
    printf '%s\t%s\t%s\t%s\n' "$n" "$rss" "$cpu" "$rps" >> "$OUT/rss.tsv"
  done
  column -t "$OUT/rss.tsv"
fi
if [ "$PART" = transport ] || [ "$PART" = all ]; then
  (cd "$ROOT" && cargo build --release -q -p benches --example reqwest-loop)
  RQ="$TARGET/release/examples/reqwest-loop"
  bash "$LB" --out "$OUT/transport-reqwest" "${IDLE[@]}" compare -c "1 16 64 256" -d "$DUR" -r "$REPS" -b wrk -- \
    "$RQ" -c '{c}' -d '{d}' '{url}' | tee "$OUT/transport-reqwest.summary.md"
  bash "$LB" --out "$OUT/transport-hyper" "${IDLE[@]}" compare -c "1 16 64 256" -d "$DUR" -r "$REPS" -b wrk -- \
    "$GEN" --hyper -c '{c}' -d '{d}' '{url}' | tee "$OUT/transport-hyper.summary.md"
fi
if [ "$PART" = pacing ]; then
  for q in 1000 10000 50000; do
    bash "$LB" --out "$OUT/pacing-$q" "${IDLE[@]}" compare -c 64 -q "$q" -d "$DUR" -r "$REPS" -b oha -- \
      "$GEN" -c '{c}' -d '{d}' -q '{q}' '{url}' > "$OUT/pacing-$q.summary.md"
    if [ -n "${GEN_BEFORE:-}" ]; then
      bash "$LB" --out "$OUT/pacing-before-$q" "${IDLE[@]}" compare -c 64 -q "$q" -d "$DUR" -r "$REPS" -b oha -- \
        $GEN_BEFORE -c '{c}' -d '{d}' -q '{q}' '{url}' > "$OUT/pacing-before-$q.summary.md"
    fi
  done
  python3 "$HERE/pacing-summary.py" "$OUT" | tee "$OUT/pacing.md"
  # The floor: a bare timerfd wake-up per arrival, pinned like the clients, no sockets.
  (cd "$ROOT" && cargo build --release -q -p benches --example timer-floor)
  taskset -c 1 "$TARGET/release/examples/timer-floor" 5 1000 100 50 20 | tee "$OUT/timer-floor.tsv"
fi
echo "raw results in $OUT" >&2
