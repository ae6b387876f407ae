"""Shared by the benchmark scripts: medians of repeated timings, and where the shipped files are.

Benchmarks print figures; they are never run by the test suite. This machine is shared and noisy, so every
figure is the median of several runs and each target is printed as a ratio beside its baseline."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BASE = REPO / "scenarios" / "chatbot-llama70b-h100.yaml"
BIN = Path(sys.executable).parent


def median_time(fn, repeat: int = 7) -> float:
    """Median wall time of fn() over `repeat` calls, in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run_process(args: list[str]) -> tuple[float, int]:
    """(wall seconds, peak RSS in bytes) of one command, its output discarded."""
    start = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(map(str, args))} failed: {proc.stderr.read().decode()[-2000:]}")
    return elapsed, usage.ru_maxrss * 1024  # Linux reports kilobytes


def verdict(ok: bool) -> str:
    return "meets the target" if ok else "MISSES the target"
