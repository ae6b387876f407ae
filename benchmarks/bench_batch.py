"""`impact batch` end to end on generated request logs: wall time and peak memory.

    python benchmarks/bench_batch.py [--big]

Targets: a 1,000,000-row CSV in at most 3 s with a peak RSS of at most 500 MB; with --big, a 10,000,000-row
file whose peak RSS stays within 10% of the 1M-row figure (the log is read in chunks). Each figure is the
median of 3 runs of the whole `impact batch` process (start-up included). The logs are generated into a
temporary folder with three models and four locations, and removed afterwards.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from _common import BASE, BIN, run_process, verdict

MODELS = np.array(["llama-3.1-8b", "llama-3.1-70b", "mistral-7b"])
LOCATIONS = np.array(["us", "fr", "de", "se"])


def generate(path: Path, rows: int, chunk: int = 1_000_000) -> None:
    rng = np.random.default_rng(0)
    with path.open("w") as fh:
        fh.write("model,input_tokens,output_tokens,location\n")
        for start in range(0, rows, chunk):
            n = min(chunk, rows - start)
            lines = np.char.add(np.char.add(MODELS[rng.integers(0, 3, n)], ","),
                                np.char.add(rng.integers(10, 4000, n).astype(str), ","))  # fmt: skip
            lines = np.char.add(np.char.add(lines, rng.integers(10, 1000, n).astype(str)), ",")
            lines = np.char.add(lines, LOCATIONS[rng.integers(0, 4, n)])
            fh.write("\n".join(lines.tolist()) + "\n")


def generate_apart(path: Path, rows: int) -> None:
    """Generate in a child process: a forked child's peak RSS counts the parent's pages from before its exec,
    so this process must stay small for the measurements to be the command's own."""
    code = f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); import bench_batch as b; "
    code += f"b.generate(b.Path({str(path)!r}), {rows})"
    subprocess.run([sys.executable, "-c", code], check=True)


def measure(log: Path, repeat: int = 3) -> tuple[float, float]:
    runs = [run_process([str(BIN / "impact"), "batch", str(log), "--scenario", str(BASE), "--by", "model",
                         "--format", "json"]) for _ in range(repeat)]  # fmt: skip
    return statistics.median(t for t, _ in runs), statistics.median(m for _, m in runs)


def main() -> None:
    big = "--big" in sys.argv
    with tempfile.TemporaryDirectory() as tmp:
        one = Path(tmp) / "requests-1m.csv"
        generate_apart(one, 1_000_000)
        seconds, rss = measure(one)
        print(f"impact batch, {one.stat().st_size / 1e6:.0f} MB CSV of 1,000,000 requests (medians of 3 runs):")
        print(f"  wall time {seconds:6.2f} s    target <= 3 s:      {verdict(seconds <= 3)} ({seconds / 3:.2f}x of it)")
        print(
            f"  peak RSS  {rss / 1e6:6.0f} MB   target <= 500 MB:   {verdict(rss <= 500e6)} ({rss / 500e6:.2f}x of it)"
        )
        print(f"  rate      {1e6 / seconds:,.0f} requests/s end to end")
        if big:
            ten = Path(tmp) / "requests-10m.csv"
            generate_apart(ten, 10_000_000)
            seconds10, rss10 = measure(ten, repeat=1)
            growth = rss10 / rss - 1
            ok = verdict(abs(growth) <= 0.10)
            print(f"10,000,000 requests ({ten.stat().st_size / 1e6:.0f} MB): {seconds10:.1f} s, peak RSS "
                  f"{rss10 / 1e6:.0f} MB, {growth:+.1%} against 1M rows   target within 10%: {ok}")  # fmt: skip


if __name__ == "__main__":
    main()
