"""`impact run` on one scenario, the whole process, against a bare import of its runtime dependencies.

    python benchmarks/bench_startup.py

Target: at most 1.3 times `python -c "import yaml, jsonschema, numexpr, numpy, click, rich"` (what a run may
import; scipy, pint, pandas and matplotlib are imported only by the commands that use them). Medians of 15
runs each, interleaved so that the machine's load affects both alike. The first run fills the cache of
validated files (engine.cache), as any earlier use of the tree does; a run without the cache is printed too.
Python must find compiled bytecode for impact's own modules, as after `pip install .` (an editable install
under PYTHONDONTWRITEBYTECODE=1 recompiles them at every start: run `python -m compileall engine cli.py`).
"""

from __future__ import annotations

import os
import statistics
import sys

from _common import BASE, BIN, run_process, verdict

REPEAT = 15


def main() -> None:
    bare = [sys.executable, "-c", "import yaml, jsonschema, numexpr, numpy, click, rich"]
    used = [sys.executable, "-c", "import yaml, numexpr, numpy, click, rich.console, rich.table"]
    table = [str(BIN / "impact"), "run", str(BASE)]
    as_json = [*table, "--format", "json"]
    run_process(table)  # fill the cache of validated files
    times = {"bare": [], "used": [], "table": [], "json": []}
    for _ in range(REPEAT):
        for key, args in (("bare", bare), ("used", used), ("table", table), ("json", as_json)):
            times[key].append(run_process(args)[0])
    os.environ["IMPACT_CACHE"] = "off"
    cold = statistics.median(run_process(table)[0] for _ in range(5))
    base, modules = statistics.median(times["bare"]), statistics.median(times["used"])
    print(f"impact run {BASE.name}, whole process, medians of {REPEAT}:")
    print(
        f"  bare import of the dependencies      {base:.3f} s   (import yaml, jsonschema, numexpr, numpy, click, rich)"
    )
    print(f"  import of the modules a table uses   {modules:.3f} s   (... rich.console, rich.table; no jsonschema)")
    for key, label in (("json", "impact run --format json"), ("table", "impact run (rich table)")):
        t = statistics.median(times[key])
        print(f"  {label:<36} {t:.3f} s   {t / base:.2f}x bare, {t / modules:.2f}x modules   "
              f"target <= 1.3x bare: {verdict(t / base <= 1.3)}")  # fmt: skip
    print(f"  table, without the cache (IMPACT_CACHE=off)  {cold:.3f} s   {cold / base:.2f}x bare")


if __name__ == "__main__":
    main()
