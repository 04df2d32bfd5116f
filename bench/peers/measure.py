#!/usr/bin/env python3
"""Runs a command and measures what all its processes spend, as a load
driver's cost: CPU seconds (user + system) of the whole process tree and the
peak of its summed resident memory.

    measure.py OUT.json -- command args...
    measure.py OUT.json --cmd-file FILE   (the command's arguments in FILE,
                                           each ended by a NUL byte)

The second form keeps the command out of this process's command line:
esrally's --kill-running-processes kills every Python process whose command
line mentions "esrally", this one too.

This process becomes a child subreaper (prctl PR_SET_CHILD_SUBREAPER), so
the command's descendants that outlive their parents (daemons, actor
systems) are reparented here and reaped here: getrusage(RUSAGE_CHILDREN)
then holds the CPU of every process of the tree, exactly, not sampled. The
summed RSS of the tree is sampled every 100 ms from /proc (the peak of a sum
cannot be had otherwise); the largest single RSS (ru_maxrss) is written too.
Descendants still running 20 s after the command exits are sent SIGTERM,
then SIGKILL (they are this command's own). Exits with the command's status.
"""
import ctypes
import json
import os
import resource
import signal
import sys
import time

PR_SET_CHILD_SUBREAPER = 36
PAGE = os.sysconf("SC_PAGE_SIZE")


def children_map():
    kids = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat", "rb") as f:
                s = f.read()
        except OSError:
            continue
        ppid = int(s[s.rindex(b")") + 2:].split()[1])
        kids.setdefault(ppid, []).append(int(d))
    return kids


def descendants(root):
    kids = children_map()
    out, todo = [], list(kids.get(root, []))
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def pss(pid):
    """Proportional set size: shared pages (forked workers, libraries)
    divided among the processes that share them."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, IndexError, ValueError):
        pass
    return 0


def rss(pid):
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * PAGE
    except (OSError, IndexError, ValueError):
        return 0


def main():
    out, sep, cmd = sys.argv[1], sys.argv[2], sys.argv[3:]
    if sep == "--cmd-file" and len(cmd) == 1:
        with open(cmd[0], "rb") as f:
            cmd = [a.decode() for a in f.read().split(b"\0")[:-1]]
    elif sep != "--":
        cmd = []
    if not cmd:
        sys.exit("usage: measure.py OUT.json -- command args... | measure.py OUT.json --cmd-file FILE")
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    me = os.getpid()
    start = time.monotonic()
    child = os.fork()
    if child == 0:
        try:
            os.execvp(cmd[0], cmd)
        finally:
            os._exit(127)
    signal.signal(signal.SIGINT, lambda *_: os.kill(child, signal.SIGINT))
    signal.signal(signal.SIGTERM, lambda *_: os.kill(child, signal.SIGTERM))
    status, peak, peak_pss, procs_peak, ended, killed = None, 0, 0, 0, None, 0
    while True:
        # reap whatever ended (the command and orphans reparented here)
        while True:
            try:
                pid, st = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                pid = 0
            if pid == 0:
                break
            if pid == child:
                status, ended = st, time.monotonic()
        tree = descendants(me)
        total = sum(rss(p) for p in tree)
        peak, procs_peak = max(peak, total), max(procs_peak, len(tree))
        peak_pss = max(peak_pss, sum(pss(p) for p in tree))
        if status is not None:
            if not tree:
                break
            if time.monotonic() - ended > 20:
                sig = signal.SIGTERM if killed < 50 else signal.SIGKILL
                for p in tree:
                    try:
                        os.kill(p, sig)
                    except OSError:
                        pass
                killed += 1
        time.sleep(0.1)
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    code = os.waitstatus_to_exitcode(status)
    with open(out, "w") as f:
        json.dump({
            "command": cmd,
            "exit": code,
            "wall_s": round((ended or time.monotonic()) - start, 3),
            "cpu_s": round(ru.ru_utime + ru.ru_stime, 3),
            "user_s": round(ru.ru_utime, 3),
            "sys_s": round(ru.ru_stime, 3),
            "peak_rss_sum_bytes": peak,
            "peak_pss_sum_bytes": peak_pss,
            "max_rss_single_bytes": ru.ru_maxrss * 1024,
            "peak_processes": procs_peak,
            "stragglers_killed": killed > 0,
        }, f, indent=1)
    sys.exit(code if code >= 0 else 128 - code)


if __name__ == "__main__":
    main()
