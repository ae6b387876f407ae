"""`--samples 100000` on one scenario: the time of the sampled evaluation.

    python benchmarks/bench_samples.py [N]

Target: at most 100 ms of evaluation (drawing every uncertain input N times and evaluating each formula once
over the draws). Printed beside it: the percentiles and sensitivity ranking (sorting the draws), the whole
`run(samples=N)` call, and, as the baseline, one evaluation per sample in a Python loop.
"""

from __future__ import annotations

import sys

from _common import REPO, median_time, verdict

from impact.engine import run, uncertainty
from impact.engine.api import open_tree, prepare
from impact.engine.evaluate import evaluate
from impact.engine.resolve import resolve

N = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
SCENARIO = REPO / "scenarios" / "uncertain-datacenter.yaml"
LOOP = 500


def main() -> None:
    tree = open_tree()
    scenario, methods, overrides = prepare(str(SCENARIO), tree, ["scope3"])
    method = methods[0]
    order, values, _, _ = resolve(method, scenario, overrides)
    spreads = {name: v.spread for name, v in values.items() if v.spread is not None}

    def sampled():
        draws = uncertainty.draw(spreads, N, seed=1)
        return evaluate(method, order, {**values, **{k: values[k].__class__(d, values[k].unit, "")
                                                     for k, d in draws.items()}}, N), draws  # fmt: skip

    results, draws = sampled()
    evaluation = median_time(sampled, repeat=9)
    summary = median_time(lambda: uncertainty.summarise(results, draws), repeat=5)
    whole = median_time(lambda: run(scenario, tree=tree, methodologies=["scope3"], samples=N, seed=1), repeat=5)

    def loop():
        for i in range(LOOP):
            evaluate(method, order, {**values, **{k: values[k].__class__(d[i : i + 1], values[k].unit, "")
                                                  for k, d in draws.items()}}, 1)  # fmt: skip

    per_sample = median_time(loop, repeat=3) / LOOP
    print(
        f"--samples {N:,} of {SCENARIO.name} ({len(spreads)} uncertain inputs: {', '.join(sorted(spreads))}), medians:"
    )
    print(f"  draw + evaluate          {evaluation * 1e3:7.1f} ms   target <= 100 ms: {verdict(evaluation <= 0.1)} "
          f"({evaluation / 0.1:.2f}x of it)")  # fmt: skip
    print(f"  percentiles + ranking    {summary * 1e3:7.1f} ms")
    print(f"  whole run(samples=N)     {whole * 1e3:7.1f} ms")
    print(f"  one sample at a time     {per_sample * N * 1e3:7.0f} ms for {N:,} (extrapolated from {LOOP}); "
          f"ratio {per_sample * N / evaluation:,.0f}x")  # fmt: skip


if __name__ == "__main__":
    main()
