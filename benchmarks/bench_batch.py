"""`impact batch` end to end on generated request logs: wall time and peak memory, beside EcoLogits.

    python benchmarks/bench_batch.py [--big]

Targets: a 1,000,000-row CSV end to end (the whole `impact batch LOG --scenario chatbot-llama70b-h100.yaml --by
model` process, start-up included) at least 200 times the per-request rate of EcoLogits' `compute_llm_impacts`,
measured in the same run, with a peak RSS of at most 300 MB; the same for the log as a 1,000,000-row Parquet
file (when pyarrow is installed); with --big, a 10,000,000-row CSV whose peak RSS stays within 10% of the
1M-row figure (the log is read in chunks). The same Parquet log split into 8 files is also evaluated through
dask (`map_partitions(evaluate_frame)`, when dask is installed), and its total checked against the command's.

Each figure is the median of 5 runs, interleaved with 5 runs of the EcoLogits baseline so that the machine's
load weighs on both alike; each baseline run times 3 loops of 2,000 calls and takes their median. The logs are
generated into a temporary folder (three models, four locations, random token counts) and removed afterwards.
impact's modules are compiled to bytecode first, as `pip install .` leaves them (an editable install under
PYTHONDONTWRITEBYTECODE=1 would recompile them at every start).

EcoLogits is measured in its own interpreter, so that it need not share impact's environment: the Python named
by `$ECOLOGITS_PYTHON`, else /tmp/ecologits-venv/bin/python, else this one; if none can import ecologits, the
baseline is skipped (`python -m venv /tmp/ecologits-venv && /tmp/ecologits-venv/bin/pip install ecologits`).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _common import BASE, BIN, REPO, run_process, verdict

MODELS = np.array(["llama-3.1-8b", "llama-3.1-70b", "mistral-7b"])
LOCATIONS = np.array(["us", "fr", "de", "se"])
REPEAT = 5


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


def command(log: Path, *more: str) -> list[str]:
    return [str(BIN / "impact"), "batch", str(log), "--scenario", str(BASE), "--by", "model", "--format", "json",
            *more]  # fmt: skip


ECOLOGITS = """
import statistics, time
from ecologits.impacts.llm import compute_llm_impacts
args = dict(model_active_parameter_count=70.55, model_total_parameter_count=70.55, if_electricity_mix_adpe=1e-7,
            if_electricity_mix_pe=10.0, if_electricity_mix_gwp=0.38, if_electricity_mix_wue=1.8,
            datacenter_pue=1.2, datacenter_wue=0.5, request_latency=5.0)
took = []
for _ in range(3):
    start = time.perf_counter()
    for i in range(2000):
        compute_llm_impacts(output_token_count=float(10 + i % 990), **args)
    took.append(time.perf_counter() - start)
print(2000 / statistics.median(took))
"""


def ecologits_python() -> tuple[str | None, str]:
    """(an interpreter that imports ecologits, its path), or (None, why not)."""
    candidates = [os.environ.get("ECOLOGITS_PYTHON"), "/tmp/ecologits-venv/bin/python", sys.executable]
    for python in [c for c in candidates if c and Path(c).exists()]:
        if subprocess.run([python, "-c", "import ecologits"], capture_output=True).returncode == 0:
            return python, python
    return None, "ecologits is not installed in $ECOLOGITS_PYTHON, /tmp/ecologits-venv or this Python"


def ecologits_rate(python: str) -> float:
    """compute_llm_impacts calls per second: the median of 3 loops of 2,000 calls."""
    done = subprocess.run([python, "-c", ECOLOGITS], capture_output=True, text=True, check=True)
    return float(done.stdout.strip().splitlines()[-1])


def to_parquet(csv: Path, parquet: Path, parts: Path) -> bool:
    """The log as one Parquet file and as a folder of 8 (a partitioned dataset); False without pyarrow."""
    code = (f"import pathlib, pyarrow.csv as c, pyarrow.parquet as q; t = c.read_csv({str(csv)!r}); "
            f"q.write_table(t, {str(parquet)!r}); d = pathlib.Path({str(parts)!r}); d.mkdir(); n = -(-len(t) // 8)\n"
            "for i in range(8): q.write_table(t.slice(i * n, n), d / f'part-{i}.parquet')")  # fmt: skip
    return subprocess.run([sys.executable, "-c", code], capture_output=True).returncode == 0


DASK = """
import sys, time
start = time.perf_counter()
import dask.dataframe as dd
from impact import evaluate_frame, frame_meta
log = dd.read_parquet(sys.argv[1])
results = log.map_partitions(evaluate_frame, sys.argv[2], meta=frame_meta(sys.argv[2]))
total = float(results["scope3.E"].sum().compute())
print(log.npartitions, total, time.perf_counter() - start)
"""


def rate_line(what: str, runs: list[tuple[float, int]], eco: float | None, rows: int = 1_000_000) -> float:
    seconds, rss = statistics.median(t for t, _ in runs), statistics.median(m for _, m in runs)
    rate = rows / seconds
    print(f"{what}:")
    print(f"  {seconds:5.2f} s, {rate:,.0f} requests/s; peak RSS {rss / 1e6:.0f} MB: "
          f"{verdict(rss <= 300e6)} (<= 300 MB)")  # fmt: skip
    if eco:
        print(f"  {rate / eco:,.0f}x EcoLogits: {verdict(rate / eco >= 200)} (>= 200x)")
    return rss


def main() -> None:
    big = "--big" in sys.argv
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO)], capture_output=True)
    python, where = ecologits_python()
    with tempfile.TemporaryDirectory() as tmp:
        one, parquet, parts = Path(tmp) / "requests-1m.csv", Path(tmp) / "requests-1m.parquet", Path(tmp) / "parts"
        generate_apart(one, 1_000_000)
        has_parquet = to_parquet(one, parquet, parts)
        run_process(command(one))  # fill the cache of validated files, as any earlier use of the tree does
        runs: dict[str, list] = {"csv": [], "parquet": [], "eco": []}
        for _ in range(REPEAT):
            if python:
                runs["eco"].append(ecologits_rate(python))
            runs["csv"].append(run_process(command(one)))
            if has_parquet:
                runs["parquet"].append(run_process(command(parquet)))
        eco = statistics.median(runs["eco"]) if python else None
        print(f"impact batch LOG --scenario {BASE.name} --by model, whole process,")
        print(f"medians of {REPEAT} runs, interleaved with the baseline's")
        print(f"EcoLogits compute_llm_impacts: {f'{eco:,.0f} requests/s' if eco else 'skipped'} ({where})")
        rss = rate_line(f"1,000,000 requests, CSV ({one.stat().st_size / 1e6:.0f} MB)", runs["csv"], eco)
        if has_parquet:
            rate_line(f"1,000,000 requests, Parquet ({parquet.stat().st_size / 1e6:.0f} MB)", runs["parquet"], eco)
        else:
            print("Parquet: skipped (pyarrow is not installed: pip install 'impact-llm[parquet]')")
        scope3 = statistics.median(run_process(command(one, "--methodology", "scope3"))[0] for _ in range(3))
        ratio = f", {1e6 / scope3 / eco:,.0f}x EcoLogits" if eco else ""
        print(f"  (scope3 alone, the methodology closest to EcoLogits': {scope3:.2f} s{ratio})")
        if has_parquet:
            dask_line(parts, one)
        if big:
            ten = Path(tmp) / "requests-10m.csv"
            generate_apart(ten, 10_000_000)
            seconds10, rss10 = run_process(command(ten))
            growth = rss10 / rss - 1
            print(f"10,000,000 requests, CSV ({ten.stat().st_size / 1e6:.0f} MB): {seconds10:.1f} s, "
                  f"{1e7 / seconds10:,.0f} requests/s")  # fmt: skip
            print(f"  peak RSS {rss10 / 1e6:.0f} MB, {growth:+.1%} against 1M rows: "
                  f"{verdict(abs(growth) <= 0.10)} (within 10%)")  # fmt: skip


def dask_line(parts: Path, csv: Path) -> None:
    """The partitioned Parquet log through dask's map_partitions(evaluate_frame), its total beside the command's."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", DASK, str(parts), str(BASE)], capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        print("dask: skipped (" + (done.stderr.strip().splitlines() or ["failed"])[-1][:60] + ")")
        return
    partitions, total, _ = done.stdout.split()
    cli = subprocess.run(command(csv), capture_output=True, text=True, check=True)
    expected = json.loads(cli.stdout)["totals"]["scope3"]["E"]["value"]
    same = abs(float(total) - expected) <= 1e-9 * abs(expected)
    print(f"dask, the Parquet log as {partitions} partition files, map_partitions(evaluate_frame):")
    print(f"  {seconds:5.2f} s whole process, {1e6 / seconds:,.0f} requests/s; scope3.E total "
          f"{'equals' if same else 'DIFFERS FROM'} impact batch's")  # fmt: skip


if __name__ == "__main__":
    main()
