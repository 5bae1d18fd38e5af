#!/usr/bin/env python3
"""distributed-compare.py — issue 16: one open-loop load run as N local parts (separate
`smps run --segment k/N --start-at T` processes, merged with `smps merge`) beside one run of the
whole load, against the same loopback target; interleaved repetitions.

Prints a Markdown table: requests (exact counts), latency percentiles (corrected, ms) and the
client CPU (user + system of every process, from wait4) per run.

Usage: distributed-compare.py SMPS_BIN URL [--parts 4] [--rps 2000] [--connections 16]
                              [--duration 10] [--reps 2] [--out DIR]
URL must be loopback (127.0.0.1 / localhost). Run it through distributed.sh, which starts a
pinned nginx (../shared/tools/loadbench.sh serve) and builds the release `smps`.
"""
import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("smps")
    ap.add_argument("url")
    ap.add_argument("--parts", type=int, default=4)
    ap.add_argument("--rps", type=int, default=2000)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--reps", type=int, default=2)
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    host = a.url.split("://", 1)[-1].split("/", 1)[0].rsplit(":", 1)[0]
    if host not in ("127.0.0.1", "localhost", "[::1]"):
        sys.exit("distributed-compare: the URL must be loopback")
    out = a.out or tempfile.mkdtemp(prefix="smps-distributed.")
    os.makedirs(out, exist_ok=True)
    config = os.path.join(out, "config.yaml")
    with open(config, "w") as f:
        f.write(
            f"name: distributed-compare\nclients:\n- protocol: http\n  connections: {a.connections}\n"
            f"  rps: {a.rps}\n  endpoint_urls: [{a.url}]\nduration: {a.duration}s\n"
        )
    common = ["--target", "config", "--format", "json", "--progress", "never", "--max-failed", "100%"]
    deadline = a.duration + 60

    def run_procs(argvs):
        """Starts every argv at once; returns (outputs, total CPU seconds)."""
        procs = []
        for argv in argvs:
            p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            procs.append(p)
        outs, cpu = [], 0.0
        start = time.monotonic()
        for p in procs:
            # wait4 gives the child's own CPU use.
            while True:
                pid, status, ru = os.wait4(p.pid, os.WNOHANG)
                if pid:
                    break
                if time.monotonic() - start > deadline:
                    for q in procs:
                        q.kill()
                    sys.exit("distributed-compare: a run did not end in time")
                time.sleep(0.05)
            cpu += ru.ru_utime + ru.ru_stime
            p.returncode = os.waitstatus_to_exitcode(status)
            outs.append((p.returncode, p.stdout.read().decode(), p.stderr.read().decode()))
        for code, _, err in outs:
            if code != 0:
                sys.exit(f"distributed-compare: a run failed ({code}): {err}")
        return outs, cpu

    def row(name, result_json, cpu):
        r = json.loads(result_json)
        lat = r.get("latenciesMs", {})
        labels = r.get("labels", {})
        n = int(labels.get("smps.io/requests", "0"))
        return (
            f"| {name} | {n} | {labels.get('smps.io/failed-requests', '?')} | {lat.get('p50', 0):.3f} | {lat.get('p90', 0):.3f} | "
            f"{lat.get('p99', 0):.3f} | {lat.get('max', 0):.3f} | {cpu:.2f} | "
            f"{cpu / max(n, 1) * 1e6:.1f} | {labels.get('smps-load/start-late-ms', '')} |"
        )

    print(
        f"{a.parts} parts vs one whole run: {a.rps} req/s open loop, {a.connections} connections, "
        f"{a.duration} s, {a.url}\n"
    )
    print("| run | requests | failed | p50 ms | p90 ms | p99 ms | max ms | client CPU s | CPU µs/req | latest start late ms |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for rep in range(1, a.reps + 1):
        at = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=2)
        at = at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        parts = [os.path.join(out, f"r{rep}-part{k}.json") for k in range(a.parts)]
        argvs = [
            [a.smps, "run", config, *common, "--segment", f"{k}/{a.parts}", "--start-at", at,
             "--portable", parts[k]]
            for k in range(a.parts)
        ]
        _, cpu = run_procs(argvs)
        merged = subprocess.run(
            [a.smps, "merge", *parts, "--format", "json"],
            capture_output=True, text=True, timeout=60, check=True,
        ).stdout
        print(row(f"rep {rep}: {a.parts} parts, merged", merged, cpu), flush=True)
        outs, cpu = run_procs([[a.smps, "run", config, *common]])
        print(row(f"rep {rep}: whole", outs[0][1], cpu), flush=True)
    print(f"\nraw outputs: {out}")


if __name__ == "__main__":
    main()
