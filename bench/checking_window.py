#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Runs an agent to its end and measures only its checking: the window from the first check's
start to the last check's end (each record's `timestamp`, and `timestamp` + `response_time`), and
the CPU the process used inside that window (its /proc/<pid>/stat read every few milliseconds and
interpolated at the window's ends). So a peak rate leaves out loading the site list and tearing
it down, as a load generator's own rate leaves out its start and exit.

    checking_window.py RECORDS.jsonl -- COMMAND...

Prints: records, window seconds, records/s, CPU µs per record, peak RSS MiB, ok percent.
"""
import bisect
import json
import os
import subprocess
import sys
import time
from datetime import datetime

HZ = os.sysconf("SC_CLK_TCK")
PERIOD = 0.005


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / HZ  # utime, stime


def peak_rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def at(samples, t):
    """CPU seconds at wall time t, interpolated between the samples around it."""
    times = [s[0] for s in samples]
    i = bisect.bisect_left(times, t)
    if i == 0:
        return samples[0][1]
    if i == len(samples):
        return samples[-1][1]
    (t0, c0), (t1, c1) = samples[i - 1], samples[i]
    return c0 + (c1 - c0) * (t - t0) / max(t1 - t0, 1e-9)


def main():
    records, command = sys.argv[1], sys.argv[sys.argv.index("--") + 1:]
    proc = subprocess.Popen(command)
    samples, rss = [], 0.0
    while proc.poll() is None:
        try:
            samples.append((time.time(), cpu_seconds(proc.pid)))
            rss = max(rss, peak_rss_mib(proc.pid))
        except (FileNotFoundError, ProcessLookupError, IndexError):
            break
        time.sleep(PERIOD)
    if proc.wait() != 0:
        sys.exit(f"checking_window: {' '.join(command)} exited with {proc.returncode}")
    starts, ends, ok = [], [], 0
    with open(records) as f:
        for line in f:
            r = json.loads(line)
            t = datetime.fromisoformat(r["timestamp"].replace("Z", "+00:00")).timestamp()
            starts.append(t)
            ends.append(t + r["response_time"] / 1000)
            ok += r["ok"] is True
    if not starts or len(samples) < 2:
        sys.exit(f"checking_window: no records in {records}, or the run was too short to sample")
    t0, t1 = min(starts), max(ends)
    n, window = len(starts), max(t1 - t0, 1e-6)
    cpu = at(samples, t1) - at(samples, t0)
    print(n, round(window, 3), round(n / window), round(cpu * 1e6 / n, 1), round(rss, 1), round(ok / n * 100, 2))


if __name__ == "__main__":
    main()
