"""The memory table: models x precisions, evaluated with the `memory` methodology.

Each cell is a run of the memory formulas for one model at one precision on one accelerator kind, so the
table follows whatever `formulas/memory.yaml` says (overhead, KV cache, GB). Values are in GB (1e9 bytes);
`to_gib` converts for comparison with tables that say GB but mean GiB, as seed 002's does.
"""

from __future__ import annotations

from .api import run
from .errors import Location
from .tree import Tree

DEFAULT_PRECISIONS = ("fp32", "fp16", "int8", "int4")  # seed 002's columns (FP16/BF16 share one)
GIB_PER_GB = 1e9 / 2**30


def memory_table(tree: Tree, models=None, precisions=None, hardware: str = "h100-sxm", context_tokens: int = 0,
                 methodology: str = "memory") -> list[dict]:  # fmt: skip
    """One row per model and precision: weights, memory, KV cache and total (GB), accelerators needed."""
    models = list(models or tree.catalog("models"))
    precisions = list(precisions or DEFAULT_PRECISIONS)
    for name in models:
        tree.entry("models", name, Location(None, path=f"impact memory {name}"))
    for name in precisions:
        tree.entry("precisions", name, Location(None, path=f"--precision {name}"))
    tree.entry("accelerators", hardware, Location(None, path=f"--hardware {hardware}"))
    rows = []
    for model in models:
        for precision in precisions:
            scenario = {"kind": "scenario", "schema_version": 1, "model": model, "precision": precision,
                        "hardware": {"accelerator": hardware, "gpus": 1},
                        "request": {"input_tokens": context_tokens, "output_tokens": 0}}  # fmt: skip
            (result,) = run(scenario, tree=tree, methodologies=[methodology])
            value = {name: float(r.value[0]) for name, r in result.results.items()}
            rows.append({
                "model": model, "name": tree.catalog("models")[model].data.get("name", model),
                "precision": precision, "params_b": float(result.inputs["P_total"].value[0]) / 1e9,
                "weights_gb": value["weights"], "memory_gb": value["memory"], "kv_cache_gb": value["kv_cache"],
                "total_gb": value["memory_total"], "accelerator": hardware,
                "gpus_needed": int(value["gpus_needed"]), "fits_one": bool(value["fits"]),
            })  # fmt: skip
    return rows


def to_gib(rows: list[dict]) -> list[dict]:
    """The same rows with sizes in GiB (2**30 bytes), keys renamed *_gib."""
    out = []
    for row in rows:
        converted = {}
        for key, value in row.items():
            if key.endswith("_gb"):
                converted[key[:-3] + "_gib"] = value * GIB_PER_GB
            else:
                converted[key] = value
        out.append(converted)
    return out
