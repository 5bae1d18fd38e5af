#!/usr/bin/env python3
"""Summarises the `pacing` part of loadbench-smps-load.sh: one table row per tool and rate with
medians over the repetitions of the reported (corrected) latency, the service time and the
dispatch lag (p50 / p99, µs), and client CPU µs per request. oha reports only its corrected
latency; loadgen also prints its service-time and dispatch-lag percentiles."""
import csv
import re
import statistics
import sys
from pathlib import Path

out = Path(sys.argv[1])
ms = lambda v: float(v) * 1000.0


def loadgen_lines(text):
    got = {}
    for key, pat in [
        ("svc", r"Service time p50 ([0-9.]+)ms p99 ([0-9.]+)ms"),
        ("lag", r"Dispatch lag p50 ([0-9.]+)ms p99 ([0-9.]+)ms"),
    ]:
        m = re.search(pat, text)
        if m:
            got[key] = (ms(m.group(1)), ms(m.group(2)))
    return got


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(v):
    return "–" if v is None else f"{v:.0f}"


print("| tool | rate | latency p50 / p99 µs | service time p50 / p99 µs | dispatch lag p50 / p99 µs | client CPU µs/req | runs |")
print("|---|---:|---|---|---|---:|---:|")
import os

before_label = sys.argv[2] if len(sys.argv) > 2 else "smps-load (before)"
for label, prefix in [("smps-load", "pacing-"), (before_label, "pacing-before-")]:
    for q in (1000, 10000, 50000):
        d = out / f"{prefix}{q}"
        tsv = d / "runs.tsv"
        if not tsv.exists():
            continue
        rows = list(csv.DictReader(tsv.open(), delimiter="\t"))
        for tool in ("cmd", "oha"):
            if tool == "oha" and prefix != "pacing-":
                continue
            mine = [r for r in rows if r["tool"] == tool]
            if not mine:
                continue
            extra = []
            if tool == "cmd":
                for run in sorted((d / "runs").glob("cmd-*")):
                    f = run / "out.txt"
                    if f.exists():
                        extra.append(loadgen_lines(f.read_text()))
            col = lambda k, i: med([e.get(k, (None, None))[i] for e in extra])
            name = label if tool == "cmd" else "oha -q --latency-correction"
            print(
                f"| {name} | {q:,} | {fmt(med([ms(r['p50_ms']) for r in mine]))} / {fmt(med([ms(r['p99_ms']) for r in mine]))}"
                f" | {fmt(col('svc', 0))} / {fmt(col('svc', 1))} | {fmt(col('lag', 0))} / {fmt(col('lag', 1))}"
                f" | {med([float(r['client_us_per_req']) for r in mine]):.2f} | {len(mine)} |"
            )
