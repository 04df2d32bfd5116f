#!/usr/bin/env python3
"""Turns one measured run of bench/run.sh into one JSON line of figures.

    figures.py tool TOOL PREFIX CASE REP [key=value ...]
        TOOL is rally, wrk, vegeta or hey; PREFIX.time is rusage.py's
        line (wall s, user s, system s, peak RSS KiB, exit status, as
        /usr/bin/time -f '%e %U %S %M %x' writes it), PREFIX.out the tool's standard output and, for rally
        and vegeta, PREFIX.json its JSON report. The key=value pairs (the
        case's settings, e.g. kind=closed conns=8) are copied into the line.
    figures.py gotest KIND FILE
        FILE is `go test -bench` output; every benchmark line becomes one
        line (kind KIND, case = the benchmark's name, rep = its count among
        lines of that name) with its metrics by unit, e.g. "cold-up-s".

Each line holds what the report needs: the tool's CPU (user + system of
its process tree, exact, from the reaped child's rusage), peak RSS, and
the tool's own throughput and latency figures in common names:
requests, docs, duration_s, ops_s, docs_s, service_p50_ms ... (a tool
that has no such figure leaves it out; the report prints n/a).
"""
import json
import re
import sys


def read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def load_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def time_figures(path):
    """The last line of rusage.py's (or /usr/bin/time's) output file."""
    lines = [l for l in read(path).splitlines() if l.strip()]
    if not lines:
        return {"error": f"{path}: no line of figures"}
    try:
        wall, user, sys_, rss_kib, code = lines[-1].split()
        return {
            "wall_s": float(wall), "user_s": float(user), "sys_s": float(sys_),
            "cpu_s": float(user) + float(sys_), "rss_mb": int(rss_kib) / 1024, "exit": int(code),
        }
    except ValueError:
        return {"error": f"{path}: unexpected line {lines[-1]!r}"}


def pcts(out, prefix, table, scale=1.0):
    """Copies percentiles 50, 90, 99 (keys "50", "50th", ...) as PREFIX_pNN_ms."""
    if not isinstance(table, dict):
        return
    for p in ("50", "90", "99"):
        for key in (p, p + "th", p + ".0"):
            if key in table and table[key] is not None:
                out[f"{prefix}_p{p}_ms"] = float(table[key]) * scale
                break


def rally(prefix):
    race = load_json(prefix + ".json")
    if not race:
        return {"error": "no JSON report (see " + prefix + ".out and .err)"}
    out = {"status": race.get("status")}
    tasks = race.get("summary", {}).get("tasks") or []
    if not tasks:
        out["error"] = "the report has no task: " + str(race.get("error", ""))
        return out
    t = tasks[0]
    requests = int(t.get("requests", 0)) + int(t.get("warmup-requests", 0))
    errors = int(t.get("errors", 0))
    dur = (t.get("duration-ns") or 0) / 1e9
    out.update({"requests": requests, "errors": errors, "duration_s": dur})
    if dur > 0:
        out["ops_s"] = requests / dur
    # Bulk: the throughput unit is docs/s and the per-second buckets weigh
    # documents, so their sum is every document sent.
    if t.get("throughput-unit") == "docs/s":
        docs = 0
        for series in (race.get("throughput-per-second") or {}).get(t.get("task"), {}).values():
            docs += sum(w for _, w in series)
        out["docs"] = docs
        if dur > 0:
            out["docs_s"] = docs / dur
    pcts(out, "service", t.get("service-time-ms"))
    pcts(out, "latency", t.get("latency-ms"))
    if "schedule-lag-ms" in t:
        pcts(out, "lag", t.get("schedule-lag-ms"))
        out["lag_mean_ms"] = t.get("schedule-lag-mean-ms")
    return out


def wrk(prefix):
    text = read(prefix + ".out")
    out = {}
    m = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)\b", text)
    if not m:
        return {"error": "wrk printed no request count"}
    scale = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}[m.group(3)]
    out["requests"], out["duration_s"] = int(m.group(1)), float(m.group(2)) * scale
    out["ops_s"] = out["requests"] / out["duration_s"]
    for p in ("50", "90", "99"):
        m = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
        if m:
            out[f"service_p{p}_ms"] = float(m.group(1)) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[m.group(2)]
    errors = 0
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    if m:
        errors += int(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if m:
        errors += sum(int(g) for g in m.groups())
    out["errors"] = errors
    return out


def vegeta(prefix):
    rep = load_json(prefix + ".json")
    if not rep:
        return {"error": "no vegeta report"}
    requests = int(rep.get("requests", 0))
    dur = (rep.get("duration", 0) + rep.get("wait", 0)) / 1e9
    out = {"requests": requests, "duration_s": dur,
           "errors": requests - round(requests * float(rep.get("success", 0)))}
    if dur > 0:
        out["ops_s"] = requests / dur
    # vegeta times a request from when a worker sends it: a service time.
    pcts(out, "service", rep.get("latencies"), 1e-6)
    return out


def hey(prefix):
    text = read(prefix + ".out")
    m = re.search(r"Total:\s+([\d.]+) secs", text)
    if not m:
        return {"error": "hey printed no summary"}
    out = {"duration_s": float(m.group(1))}
    codes = re.findall(r"^\s+\[(\d+)\]\s+(\d+) responses", text, re.M)
    out["requests"] = sum(int(n) for _, n in codes)
    errs = re.search(r"Error distribution:(.*)", text, re.S)
    out["errors"] = sum(int(n) for c, n in codes if not c.startswith("2"))
    if errs:
        failed = sum(int(n) for n in re.findall(r"^\s+\[(\d+)\]", errs.group(1), re.M))
        out["errors"] += failed
        out["requests"] += failed
    if out["duration_s"] > 0:
        out["ops_s"] = out["requests"] / out["duration_s"]
    for p in ("50", "90", "99"):
        m = re.search(rf"^\s+{p}%+ in ([\d.]+) secs", text, re.M)
        if m:
            out[f"service_p{p}_ms"] = float(m.group(1)) * 1e3
    return out


PARSERS = {"rally": rally, "wrk": wrk, "vegeta": vegeta, "hey": hey}


def tool_line(tool, prefix, case, rep, settings):
    line = {"case": case, "rep": int(rep), "tool": tool}
    for kv in settings:
        k, _, v = kv.partition("=")
        line[k] = int(v) if v.isdigit() else v
    figs = PARSERS[tool](prefix)
    t = time_figures(prefix + ".time")
    if "error" in t:
        figs.setdefault("error", t["error"])
    else:
        figs.update(t)
        if t["exit"] != 0:
            figs.setdefault("error", f"exit status {t['exit']}")
    # A peer that sends a fixed bulk body: its documents are its requests
    # times the documents per body.
    if "docs_per_request" in line and figs.get("requests") and "docs" not in figs:
        figs["docs"] = figs["requests"] * line["docs_per_request"]
        if figs.get("duration_s"):
            figs["docs_s"] = figs["docs"] / figs["duration_s"]
    if figs.get("cpu_s") is not None:
        if figs.get("requests"):
            figs["cpu_per_req_us"] = figs["cpu_s"] / figs["requests"] * 1e6
        if figs.get("docs"):
            figs["cpu_per_doc_us"] = figs["cpu_s"] / figs["docs"] * 1e6
    line.update(figs)
    return line


BENCH = re.compile(r"^(Benchmark\S+?)(?:-\d+)?\s+(\d+)\s+(.*)$")


def gotest_lines(kind, path):
    seen = {}
    text = read(path)
    for raw in text.splitlines():
        m = BENCH.match(raw)
        if not m:
            continue
        name, fields = m.group(1), m.group(3).split()
        metrics = {}
        for i in range(0, len(fields) - 1, 2):
            try:
                metrics[fields[i + 1]] = float(fields[i])
            except ValueError:
                pass
        seen[name] = seen.get(name, 0) + 1
        yield {"case": name, "rep": seen[name], "tool": "rally", "kind": kind, **metrics}


def main():
    if len(sys.argv) >= 6 and sys.argv[1] == "tool":
        _, _, tool, prefix, case, rep, *settings = sys.argv
        print(json.dumps(tool_line(tool, prefix, case, rep, settings)))
    elif len(sys.argv) == 4 and sys.argv[1] == "gotest":
        for line in gotest_lines(sys.argv[2], sys.argv[3]):
            print(json.dumps(line))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
