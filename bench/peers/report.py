#!/usr/bin/env python3
"""Writes bench/peers.sh's table (markdown) from one run's results directory:
each tool's own CSV report (Metric,Task,Value,Unit: esrally, OpenSearch
Benchmark and rally write the same rows), measure.py's JSON for each race
(driver CPU, peak memory) and wrk's output.

    report.py RESULTS_DIR META.json > peers.md

RESULTS_DIR holds <engine>-<tool>-<challenge>.{csv,json} (tool: peer or
rally), <engine>-wrk.{txt,json}; META.json the run's versions and settings.
"""
import csv
import json
import os
import re
import sys

TASKS = ["bulk", "match-all", "term", "range"]
PCTS = ["50th", "90th", "99th"]


def load_csv(path):
    out = {}
    try:
        with open(path, newline="") as f:
            for row in csv.reader(f):
                if len(row) >= 4 and row[0] != "Metric":
                    try:
                        out[(row[0].strip(), row[1].strip())] = (float(row[2]), row[3].strip())
                    except ValueError:
                        pass
    except OSError:
        pass
    return out


def load_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def fmt(v, digits=2):
    if v is None:
        return "n/a"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    if abs(v) >= 100:
        return f"{v:.1f}"
    return f"{v:.{digits}f}"


def ratio(a, b):
    if a is None or b is None or b == 0:
        return "n/a"
    return f"{a / b:.2f}"


def mb(m):
    v = m.get("peak_rss_sum_bytes")
    return v / 2**20 if v is not None else None


def pss_mb(m):
    v = m.get("peak_pss_sum_bytes")
    return v / 2**20 if v is not None else None


def metric(rep, name, task):
    v = rep.get((name, task))
    return (v[0], v[1]) if v else (None, "")


def wrk_figures(path):
    try:
        text = open(path).read()
    except OSError:
        return {}
    out = {}
    m = re.search(r"(\d+) requests in", text)
    if m:
        out["requests"] = int(m.group(1))
    m = re.search(r"Requests/sec:\s+([\d.]+)", text)
    if m:
        out["throughput"] = float(m.group(1))
    for p in ("50", "90", "99"):
        m = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
        if m:
            out[p] = float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)]
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    out["errors"] = int(m.group(1)) if m else 0
    return out


def engine_section(d, meta, eng):
    peer, label = eng["peer"], eng["peer_label"]
    key = eng["key"]
    lines = [f"### {eng['name']}: {label} and rally", ""]
    races = {}
    for tool in ("peer", "rally"):
        for ch in ("peers", "closed-loop"):
            races[tool, ch] = (load_csv(os.path.join(d, f"{key}-{tool}-{ch}.csv")),
                               load_json(os.path.join(d, f"{key}-{tool}-{ch}.json")))
    lines += [f"Challenge `peers` (bulk with 2 clients, searches at target throughputs with 2 clients, "
              f"{meta['time_period']} s each):", "",
              f"| figure | {peer} | rally | rally / {peer} |", "|---|---:|---:|---:|"]
    pm, rm = races["peer", "peers"][1], races["rally", "peers"][1]
    for name, f in (("driver CPU, whole race (s)", lambda m: m.get("cpu_s")),
                    ("peak memory, summed RSS (MB)", mb),
                    ("peak memory, summed PSS (MB)", pss_mb),
                    ("processes (peak)", lambda m: m.get("peak_processes")),
                    ("wall time (s)", lambda m: m.get("wall_s"))):
        a, b = f(pm), f(rm)
        lines.append(f"| {name} | {fmt(a)} | {fmt(b)} | {ratio(b, a)} |")
    pr, rr = races["peer", "peers"][0], races["rally", "peers"][0]
    for task in TASKS:
        a, unit = metric(pr, "Mean Throughput", task)
        b, unit2 = metric(rr, "Mean Throughput", task)
        lines.append(f"| {task}: mean throughput ({unit or unit2}) | {fmt(a)} | {fmt(b)} | {ratio(b, a)} |")
        for p in PCTS:
            a, _ = metric(pr, f"{p} percentile service time", task)
            b, _ = metric(rr, f"{p} percentile service time", task)
            lines.append(f"| {task}: {p} pct service time (ms) | {fmt(a)} | {fmt(b)} | {ratio(b, a)} |")
        a, _ = metric(pr, "error rate", task)
        b, _ = metric(rr, "error rate", task)
        lines.append(f"| {task}: error rate (%) | {fmt(a)} | {fmt(b)} | |")
    warm = meta.get("warmup_iterations", 0)
    n = (meta["iterations"] + warm) * 8
    lines += ["", f"Challenge `closed-loop` (term query, 8 clients, no target throughput, "
              f"{warm:,} warm-up and {meta['iterations']:,} measured iterations each = {n:,} requests; "
              f"wrk: 2 threads, 8 connections, {meta['wrk_seconds']} s). Throughput and service times are "
              f"the measured iterations'; CPU per request is the race's whole driver CPU (start-up and "
              f"warm-up included) over all its requests:", "",
              f"| figure | {peer} | rally | wrk | rally / {peer} | rally / wrk |", "|---|---:|---:|---:|---:|---:|"]
    pr, pm = races["peer", "closed-loop"]
    rr, rm = races["rally", "closed-loop"]
    w = wrk_figures(os.path.join(d, f"{key}-wrk.txt"))
    wm = load_json(os.path.join(d, f"{key}-wrk.json"))
    def row(name, a, b, c):
        lines.append(f"| {name} | {fmt(a)} | {fmt(b)} | {fmt(c)} | {ratio(b, a)} | {ratio(b, c)} |")
    row("throughput (ops/s)", metric(pr, "Mean Throughput", "term-closed-loop")[0],
        metric(rr, "Mean Throughput", "term-closed-loop")[0], w.get("throughput"))
    for p in PCTS:
        row(f"{p} pct service time (ms)", metric(pr, f"{p} percentile service time", "term-closed-loop")[0],
            metric(rr, f"{p} percentile service time", "term-closed-loop")[0], w.get(p[:2]))
    cpu = lambda m: m.get("cpu_s")
    row("driver CPU, whole race (s)", cpu(pm), cpu(rm), cpu(wm))
    per = lambda m, k: m["cpu_s"] * 1e6 / k if m.get("cpu_s") is not None and k else None
    row("CPU per request (µs)", per(pm, n), per(rm, n), per(wm, w.get("requests")))
    row("peak memory, summed RSS (MB)", mb(pm), mb(rm), mb(wm))
    row("peak memory, summed PSS (MB)", pss_mb(pm), pss_mb(rm), pss_mb(wm))
    row("wall time (s)", pm.get("wall_s"), rm.get("wall_s"), wm.get("wall_s"))
    lines.append(f"| errors | {fmt(metric(pr, 'error rate', 'term-closed-loop')[0])} % | "
                 f"{fmt(metric(rr, 'error rate', 'term-closed-loop')[0])} % | {w.get('errors', 'n/a')} non-2xx | | |")
    bad = [f"{t} {c} exited {m.get('exit')}" for (t, c), (_, m) in races.items() if m.get("exit") not in (0, None)]
    bad += [f"{t} {c}: no report" for (t, c), (r, _) in races.items() if not r]
    if bad:
        lines += ["", "Failures: " + "; ".join(bad) + f" (logs next to the results in {meta['log_dir']})."]
    return lines


def main():
    d, meta = sys.argv[1], load_json(sys.argv[2])
    out = [f"# rally and its peers on real engines, {meta['date']}", "",
           f"`bash bench/peers.sh` on {meta['host']} ({meta['cpus']} CPUs; the nodes, the load drivers and wrk "
           f"share them, so the figures move from run to run: compare within a run only). rally {meta['rally']}, "
           f"esrally {meta['esrally']}, OpenSearch Benchmark {meta['osb']}, {meta['wrk']}; nodes with JDK 17 and a "
           f"1 GB heap, one at a time, each warmed up by an unmeasured rally race ({meta['warmup']}) before the "
           f"measured ones (peer, then rally, per challenge); track `bench/peers/track.json`, {meta['docs']:,} web-log-like documents "
           f"({meta['bytes'] / 2**20:.1f} MB). Driver CPU and memory cover all of a tool's processes "
           f"({meta['cpu_method']}). Script time: {meta.get('script_s', '?')} s.", ""]
    for eng in meta["engines"]:
        out += engine_section(d, meta, eng) + [""]
    print("\n".join(out).rstrip())


if __name__ == "__main__":
    main()
