"""Peak memory per value written for a sweep's output, per format: the figures behind
engine.sweep.OUTPUT_BYTES_PER_VALUE (the output memory guard). Prints bytes per value for JSON, CSV, Markdown
and the terminal table over a sweep of N points (default 20,000; `python benchmarks/bench_output_memory.py N`),
beside the guard's figure for that format."""

from __future__ import annotations

import contextlib
import gc
import io
import sys
import tracemalloc

import yaml
from _common import BASE, REPO

from impact.engine import open_tree, render
from impact.engine.api import run
from impact.engine.render import terminal
from impact.engine.sweep import OUTPUT_BYTES_PER_VALUE, output_values


def main(n: int) -> None:
    doc = yaml.safe_load(BASE.read_text())
    doc["sweep"] = {"grid": {"output_tokens": list(range(1, n + 1))}}
    runs = run(doc, tree=open_tree(REPO))
    writers = {fmt: (lambda f=fmt: render.text(f, "runs", runs)) for fmt in ("json", "csv", "markdown")}
    writers["table"] = lambda: terminal.console().print(*terminal.sweep(runs))
    for fmt, write in writers.items():
        gc.collect()
        tracemalloc.start()
        with contextlib.redirect_stdout(io.StringIO()):
            write()
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        per_value = peak / output_values(runs, fmt)
        print(f"{fmt:9} {n:,} points: {per_value:7.1f} bytes per value (guard assumes {OUTPUT_BYTES_PER_VALUE[fmt]})")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20_000)
