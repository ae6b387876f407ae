"""Core evaluation of the scope3 methodology over 1,000,000 requests, against one request at a time.

    python benchmarks/bench_core.py [N]

Target: at least 5,000,000 requests/s. Each request has its own input and output token counts; the scenario's
catalog lookups are done once (as `impact batch` does per combination of choices), then every formula is
evaluated once over the arrays. Baselines, in the same script: the same engine called once per request in a
Python loop (evaluation only, and the whole `run()` with its lookups), and EcoLogits'
`compute_llm_impacts` once per request, if ecologits is installed.
"""

from __future__ import annotations

import sys

import numpy as np
from _common import BASE, median_time, verdict

from impact.engine import run
from impact.engine.api import open_tree, prepare
from impact.engine.errors import Location
from impact.engine.points import Column, Points

N = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
LOOP = 2_000  # requests timed one by one; the rate is per request


def main() -> None:
    tree = open_tree()
    scenario, methods, overrides = prepare(str(BASE), tree, ["scope3"])
    method = methods[0]
    rng = np.random.default_rng(0)
    n_in = rng.integers(10, 4000, N).astype(np.float64)
    n_out = rng.integers(10, 1000, N).astype(np.float64)
    points = Points(scenario, tree, methods, overrides, {"input_tokens": 1.0, "output_tokens": 1.0})

    def columns(a, b):
        where = Location(None)
        return {"input_tokens": Column("input_tokens", a, "bench", where),
                "output_tokens": Column("output_tokens", b, "bench", where)}  # fmt: skip

    codes = np.zeros(N, dtype=np.intp)
    cols = columns(n_in, n_out)
    results, _ = points.evaluate(method, codes, [{}], cols, N)  # warm: resolve once, numexpr compiles
    vectorized = N / median_time(lambda: points.evaluate(method, codes, [{}], cols, N), repeat=7)

    one = np.zeros(1, dtype=np.intp)

    def loop_evaluate():
        for i in range(LOOP):
            points.evaluate(method, one, [{}], columns(n_in[i : i + 1], n_out[i : i + 1]), 1)

    per_request = LOOP / median_time(loop_evaluate, repeat=3)

    def loop_run():
        for i in range(LOOP // 10):
            run(scenario, tree=tree, methodologies=["scope3"], set={"n_in": n_in[i], "n_out": n_out[i]})

    per_run = (LOOP // 10) / median_time(loop_run, repeat=3)
    check = points.evaluate(method, one, [{}], columns(n_in[:1], n_out[:1]), 1)[0]["E"][0]
    assert abs(check - results["E"][0]) <= 1e-12 * abs(check), "the loop and the arrays disagree"

    print(f"scope3 over {N:,} requests (each with its own token counts), medians:")
    print(f"  vectorized, one pass per formula   {vectorized:>14,.0f} requests/s   target >= 5,000,000: "
          f"{verdict(vectorized >= 5e6)}")  # fmt: skip
    ratio = vectorized / per_request
    print(f"  same engine, one request at a time {per_request:>14,.0f} requests/s   ratio {ratio:,.0f}x")
    print(f"  whole run() per request            {per_run:>14,.0f} requests/s   ratio {vectorized / per_run:,.0f}x")
    eco = ecologits_rate(n_out)
    if eco:
        print(f"  ecologits compute_llm_impacts      {eco:>14,.0f} requests/s   ratio {vectorized / eco:,.0f}x")
    else:
        print("  ecologits: not installed (pip install ecologits to add it to the comparison)")


def ecologits_rate(n_out) -> float | None:
    try:
        from ecologits.impacts.llm import compute_llm_impacts
    except ImportError:
        return None
    args = dict(model_active_parameter_count=70.55, model_total_parameter_count=70.55, if_electricity_mix_adpe=1e-7,
                if_electricity_mix_pe=10.0, if_electricity_mix_gwp=0.38, if_electricity_mix_wue=1.8,
                datacenter_pue=1.2, datacenter_wue=0.5, request_latency=5.0)  # fmt: skip

    def loop():
        for i in range(LOOP // 4):
            compute_llm_impacts(output_token_count=float(n_out[i]), **args)

    return (LOOP // 4) / median_time(loop, repeat=3)


if __name__ == "__main__":
    main()
