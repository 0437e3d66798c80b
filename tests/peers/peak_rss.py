"""Runs a command and reports its own peak RSS, free of its caller's.

    python peak_rss.py REPORT COMMAND [ARG]...

A process's peak RSS (ru_maxrss) counts the memory of the process it was
forked from until it calls exec, so a command started by a big process (a
test binary that has symbolised a backtrace holds hundreds of MiB) seems
big too. This script is a small parent: it forks COMMAND, waits for it,
and writes `WAIT_STATUS PEAK_RSS_KIB` to the file REPORT.
"""

import os
import sys

report, argv = sys.argv[1], sys.argv[2:]
pid = os.fork()
if pid == 0:
    try:
        os.execv(argv[0], argv)
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
with open(report, "w") as f:
    f.write(f"{status} {usage.ru_maxrss}")
