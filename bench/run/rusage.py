#!/usr/bin/env python3
"""Runs a command and writes what it cost, in the format of
/usr/bin/time -f '%e %U %S %M %x' but with CPU times in microseconds
(GNU time prints hundredths of a second, too coarse for a run of a few
seconds):

    rusage.py OUT -- command args...

OUT gets one line: wall seconds, user seconds, system seconds, peak RSS
in KiB, exit status (128 + N for a command killed by signal N). The figures
are the reaped child's rusage from wait4 (Linux: the child and every
descendant it reaped, e.g. a load driver run under timeout and taskset),
exact, not sampled; the peak RSS is the largest of those processes'.
Nothing polls while the command runs. SIGINT and SIGTERM are passed on to
the command. Exits with the command's status.
"""
import os
import signal
import sys
import time


def main():
    if len(sys.argv) < 4 or sys.argv[2] != "--":
        sys.exit("usage: rusage.py OUT -- command args...")
    out, cmd = sys.argv[1], sys.argv[3:]
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:
        try:
            os.execvp(cmd[0], cmd)
        finally:
            os._exit(127)
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda s, _: os.kill(pid, s))
    _, status, ru = os.wait4(pid, 0)
    wall = time.monotonic() - start
    code = os.waitstatus_to_exitcode(status)
    code = code if code >= 0 else 128 - code
    with open(out, "w") as f:
        f.write(f"{wall:.3f} {ru.ru_utime:.6f} {ru.ru_stime:.6f} {ru.ru_maxrss} {code}\n")
    sys.exit(code)


if __name__ == "__main__":
    main()
