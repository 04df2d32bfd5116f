#!/usr/bin/env python3
"""Writes bench/run.sh's results (markdown) from the JSON lines figures.py
made: one table per case, each figure as the median of the repetitions
with their range [min–max], per tool, and the ratio of the medians rally /
peer; then the issue's acceptance figures as measured (quoted, never
asserted).

    report.py RESULTS.jsonl META.json > run-<date>.md
"""
import json
import statistics
import sys

CLOSED_ROWS = [
    ("throughput (ops/s)", "ops_s"),
    ("requests", "requests"),
    ("CPU per request (µs)", "cpu_per_req_us"),
    ("CPU, whole run (s)", "cpu_s"),
    ("peak RSS (MB)", "rss_mb"),
    ("service time p50 (ms)", "service_p50_ms"),
    ("service time p90 (ms)", "service_p90_ms"),
    ("service time p99 (ms)", "service_p99_ms"),
    ("errors", "errors"),
]
THROTTLED_ROWS = [
    ("throughput (ops/s)", "ops_s"),
    ("requests", "requests"),
    ("CPU per request (µs)", "cpu_per_req_us"),
    ("CPU, whole run (s)", "cpu_s"),
    ("peak RSS (MB)", "rss_mb"),
    ("service time p50 (ms)", "service_p50_ms"),
    ("service time p99 (ms)", "service_p99_ms"),
    ("latency p50 (ms)", "latency_p50_ms"),
    ("latency p99 (ms)", "latency_p99_ms"),
    ("schedule lag p50 (ms)", "lag_p50_ms"),
    ("schedule lag p99 (ms)", "lag_p99_ms"),
    ("errors", "errors"),
]
BULK_ROWS = [
    ("documents/s", "docs_s"),
    ("documents", "docs"),
    ("bulk requests", "requests"),
    ("CPU per document (µs)", "cpu_per_doc_us"),
    ("CPU, whole run (s)", "cpu_s"),
    ("peak RSS (MB)", "rss_mb"),
    ("service time p50 (ms)", "service_p50_ms"),
    ("service time p99 (ms)", "service_p99_ms"),
    ("errors", "errors"),
]
RSS_ROWS = [
    ("peak RSS (MB)", "rss_mb"),
    ("CPU, whole run (s)", "cpu_s"),
    ("CPU per request (µs)", "cpu_per_req_us"),
    ("throughput (ops/s)", "ops_s"),
    ("requests", "requests"),
    ("service time p50 (ms)", "service_p50_ms"),
    ("schedule lag p99 (ms)", "lag_p99_ms"),
    ("errors", "errors"),
]
UPDOWN_COLS = [("cold up (s)", "cold-up-s"), ("warm up (s)", "warm-up-s"), ("down (s)", "down-s"),
               ("sent per host on a cold up (MB)", "wire-MB/host")]
MEMBERS_COLS = [("coordinator CPU (ms/s)", "cpu-ms/s"), ("peak RSS (MB)", "rss-MB"), ("peak live heap (MB)", "live-heap-MB"),
                ("status p50 (ms)", "status-p50-ms"), ("status p99 (ms)", "status-p99-ms"),
                ("merge per delta (µs)", "merge-µs/delta"), ("CPU per delta (µs)", "cpu-µs/delta"),
                ("deltas/s", "deltas/s"), ("lost deltas", "gaps")]


# Counts that depend on how long each tool ran, not on how well: no ratio.
NO_RATIO = {"errors", "requests", "docs"}


def fmt(v):
    if v is None:
        return "n/a"
    if isinstance(v, str):
        return v
    a = abs(v)
    if float(v).is_integer():
        return f"{v:,.0f}"
    if a >= 1000:
        return f"{v:,.0f}"
    if a >= 100:
        return f"{v:.1f}"
    if a >= 10:
        return f"{v:.2f}"
    if a >= 1 or a == 0:
        return f"{v:.3g}" if a else "0"
    return f"{v:.3g}"


def values(lines, key):
    out = []
    for l in lines:
        v = l.get(key)
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            out.append(float(v))
    return out


def median(lines, key):
    vs = values(lines, key)
    return statistics.median(vs) if vs else None


def cell(lines, key):
    vs = values(lines, key)
    if not vs:
        return "n/a"
    m = statistics.median(vs)
    if len(vs) == 1 or min(vs) == max(vs):
        return fmt(m)
    return f"{fmt(m)} [{fmt(min(vs))}–{fmt(max(vs))}]"


def ratio(a, b):
    if a is None or b is None or b == 0:
        return ""
    return f"{a / b:.2f}"


def problems(lines):
    """The runs that reported an error, one line each."""
    out = []
    for l in lines:
        if l.get("error"):
            out.append(f"- {l['tool']}, repetition {l['rep']}: {l['error']}")
    return out


def tool_table(lines, tools, rows):
    by = {t: [l for l in lines if l["tool"] == t] for t in tools}
    tools = [t for t in tools if by[t]]
    peers = [t for t in tools if t != "rally"]
    head = "| figure | " + " | ".join(tools) + "".join(f" | rally / {p}" for p in peers) + " |"
    sep = "|---|" + "---:|" * (len(tools) + len(peers))
    out = [head, sep]
    for label, key in rows:
        if all(not values(by[t], key) for t in tools):
            continue
        cells = [cell(by[t], key) for t in tools]
        ratios = [ratio(median(by["rally"], key), median(by[p], key)) if key not in NO_RATIO else "" for p in peers]
        out.append(f"| {label} | " + " | ".join(cells + ratios) + " |")
    return out


def column_table(lines, group_key, group_label, cols, label_of):
    groups = sorted({l[group_key] for l in lines if group_key in l})
    out = ["| " + group_label + " | " + " | ".join(c for c, _ in cols) + " |",
           "|---|" + "---:|" * len(cols)]
    for g in groups:
        gl = [l for l in lines if l.get(group_key) == g]
        out.append(f"| {label_of(g)} | " + " | ".join(cell(gl, k) for _, k in cols) + " |")
    return out


def main():
    results, meta = sys.argv[1], json.load(open(sys.argv[2]))
    lines = [json.loads(l) for l in open(results) if l.strip()]
    for l in lines:
        # Go benchmarks report bytes; the table shows MB.
        if "wire-B/host" in l:
            l["wire-MB/host"] = l["wire-B/host"] / 1e6
        if l.get("kind") in ("updown", "members"):
            name = l["case"].split("/", 1)[-1]
            k, _, v = name.partition("=")
            l[k] = int(v) if v.isdigit() else v
    kind = lambda k: [l for l in lines if l.get("kind") == k]
    out = [f"# rally and its peers on a no-op target, {meta['date']}", ""]
    out.append(
        f"`bash bench/run.sh{' quick' if meta.get('quick') else ''}` on {meta['host']} ({meta['cpus']} CPUs): "
        f"nginx {meta['nginx']} as the no-op target (canned Elasticsearch answers, one worker, pinned to CPU 0), "
        f"each load driver pinned to CPU 1 (one core: Go tools run with GOMAXPROCS 1); "
        f"rally {meta['rally']} (CGO_ENABLED=0), wrk {meta['wrk']}, vegeta {meta['vegeta']}, hey {meta['hey']}. "
        f"{meta['reps']} repetitions, the tools interleaved within each; each figure is the median "
        f"[min–max] of the repetitions, ratios are of the medians. CPU is user + system time of the tool's "
        f"whole process tree (exact, from the reaped child's rusage: bench/run/rusage.py, start-up included), "
        f"peak RSS its largest resident set; throughput, latency and service time come from each tool's "
        f"own report (rally's JSON report; wrk --latency; vegeta report -type=json; hey's summary). "
        f"wrk, vegeta and hey time a request from when they send it: their percentiles stand in the "
        f"service-time rows; only rally measures latency (from the intended start) and schedule lag. "
        f"Runs of {meta['seconds']} s; script time {meta['script_s']} s. The machine is shared: compare "
        f"within this file only.")
    out.append("")

    closed = kind("closed")
    for conns in sorted({l["conns"] for l in closed}):
        cl = [l for l in closed if l["conns"] == conns]
        out += [f"## Closed loop, {conns} connections", "",
                f"`GET /noop/_search` with a match_all body, {conns} clients as fast as they go (rally: "
                f"{conns} clients, time-period {meta['seconds']} s, no warm-up; wrk -t1 -c{conns}; vegeta "
                f"-rate 0 -workers {conns} -max-workers {conns}; hey -c {conns}).", ""]
        out += tool_table(cl, ["rally", "wrk", "vegeta", "hey"], CLOSED_ROWS) + problems(cl) + [""]

    thr = kind("throttled")
    for rate, clients in sorted({(l["rate"], l["clients"]) for l in thr}):
        tl = [l for l in thr if l["rate"] == rate and l["clients"] == clients]
        out += [f"## Throttled, {rate:,} ops/s over {clients} clients", "",
                f"rally: target-throughput {rate} over {clients} clients; vegeta -rate {rate}/1s "
                f"-workers {clients} -max-workers {clients}. Throughput is what was achieved.", ""]
        out += tool_table(tl, ["rally", "vegeta"], THROTTLED_ROWS) + problems(tl) + [""]

    bulk = kind("bulk")
    if bulk:
        b0 = bulk[0]
        out += ["## Bulk indexing from a decompressed corpus", "",
                f"rally: a generated corpus of {b0.get('corpus_docs', 0):,} web-log-like documents "
                f"({b0.get('corpus_bytes', 0) / 1e6:.1f} MB, decompressed) read {b0.get('passes', 1)} times (as "
                f"that many files of the corpus) in bulks of {b0.get('bulk_size')} from {b0.get('clients')} "
                f"clients to the canned `_bulk`, after an unmeasured race that made the files' offset tables. wrk: the first {b0.get('bulk_size')} documents as one fixed "
                f"bulk body, {b0.get('clients')} connections, {meta['seconds']} s: what sending the bytes costs "
                f"without reading a corpus.", ""]
        out += tool_table(bulk, ["rally", "wrk"], BULK_ROWS) + problems(bulk) + [""]

    rss = kind("rss")
    if rss:
        out += ["## Memory with many clients", "",
                f"rally alone, each client at 1 op/s (target-throughput = clients), time-period "
                f"{meta['rss_seconds']} s.", ""]
        counts = sorted({l["clients"] for l in rss})
        out.append("| figure | " + " | ".join(f"{c:,} clients" for c in counts) + " |")
        out.append("|---|" + "---:|" * len(counts))
        for label, key in RSS_ROWS:
            out.append(f"| {label} | " + " | ".join(cell([l for l in rss if l["clients"] == c], key) for c in counts) + " |")
        out += problems(rss) + [""]

    ud = kind("updown")
    out += ["## `rally up` / `rally down` on lab hosts", ""]
    if ud:
        out += [f"`go test -run '^$' -bench '{meta['updown_bench']}' -benchtime 1x -count {meta['updown_count']} "
                f"./e2e/` (e2e/updown_bench_test.go): the real binary on lab hosts (network namespaces with sshd); "
                f"a cold up pushes the worker build to every host, a warm up finds it there.", ""]
        out += column_table(ud, "hosts", "hosts", UPDOWN_COLS, lambda g: str(g)) + [""]
    else:
        out += [meta.get("updown_note") or "not run", ""]

    mem = kind("members")
    out += ["## Coordinator with simulated members", ""]
    if mem:
        out += [f"`go test -run '^$' -bench '{meta['members_bench']}' -benchtime 1x -count {meta['members_count']} "
                f"./race/ -args -members-period={meta['members_period']}` (race/members_bench_test.go): the "
                f"coordinator's actor system and race conductor in the benchmark's process; the members in a "
                f"child process, each a real actor member over loopback TCP (its own connection, real frames "
                f"and heartbeats) running the real member side of a race, one client each at 2 ops/s against "
                f"a canned target, so each ships a metrics delta per second. CPU and RSS are the coordinator "
                f"process's; status is a status request (actor status and race progress as JSON over HTTP) "
                f"every 100 ms during the race; merge is the time in the coordinator's metrics handler per "
                f"delta (decode and merge), CPU per delta the coordinator's whole CPU over the deltas merged.", ""]
        out += column_table(mem, "members", "members", MEMBERS_COLS, lambda g: str(g)) + [""]
    else:
        out += [meta.get("members_note") or "not run", ""]

    # The acceptance figures, as measured here.
    def med(lines, **where):
        sel = [l for l in lines if all(l.get(k) == v for k, v in where.items())]
        return sel

    acc = []

    def row(what, target, value, ok):
        acc.append(f"| {what} | {target} | {fmt(value)} | {'' if value is None else ('yes' if ok else 'no')} |")

    c8 = med(closed, conns=8)
    r = median([l for l in c8 if l["tool"] == "rally"], "cpu_per_req_us")
    w = median([l for l in c8 if l["tool"] == "wrk"], "cpu_per_req_us")
    v = r / w if r is not None and w else None
    row("closed loop, 8 connections: CPU per request, rally / wrk", "≤ 1.2", v, v is not None and v <= 1.2)
    t5 = med(thr, rate=5000, clients=500)
    ra = [l for l in t5 if l["tool"] == "rally"]
    r = median(ra, "cpu_per_req_us")
    vg = median([l for l in t5 if l["tool"] == "vegeta"], "cpu_per_req_us")
    v = r / vg if r is not None and vg else None
    row("throttled 5,000 ops/s over 500 clients: CPU per request, rally / vegeta", "≤ 0.5", v, v is not None and v <= 0.5)
    v = median(ra, "service_p50_ms")
    row("throttled 5,000 ops/s over 500 clients: rally's service time p50 (ms)", "≤ 0.5", v, v is not None and v <= 0.5)
    v = median(ra, "lag_p99_ms")
    row("throttled 5,000 ops/s over 500 clients: rally's schedule lag p99 (ms)", "≤ 1", v, v is not None and v <= 1)
    v = median(med(rss, clients=1000), "rss_mb")
    row("1,000 clients: rally's peak RSS (MB)", "≤ 150", v, v is not None and v <= 150)
    r10 = med(rss, clients=10000)
    if r10:
        ran = all(not l.get("error") and l.get("requests", 0) > 0 and l.get("errors", 1) == 0 for l in r10)
        acc.append(f"| 10,000 clients run | completed, no errors | {'completed' if ran else 'failed'} | {'yes' if ran else 'no'} |")
    else:
        acc.append("| 10,000 clients run | completed, no errors | n/a | |")
    for label, key in (("cold", "cold-up-s"), ("warm", "warm-up-s")):
        v = median(med(ud, hosts=40), key)
        row(f"`rally up` of 40 lab hosts, {label} (s)", "≤ 12", v, v is not None and v <= 12)
    out += ["## Acceptance figures of the issue (quoted, not asserted)", "",
            "| figure | target | measured (median) | met |", "|---|---|---:|---|"] + acc + [""]
    print("\n".join(out))


if __name__ == "__main__":
    main()
