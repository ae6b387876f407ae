"""impact: an open, declarative calculator for the footprint of LLM inference.

The methodology is data (`formulas/*.yaml`, `catalogs/*.yaml`); this package evaluates it. Public API:
`run`, `load_scenario`, `open_tree`, `ImpactError` (see `impact.engine.api`); `evaluate_frame` and
`frame_meta` for dataframe partitions (dask, Spark; see `impact.engine.frames`).
"""

__version__ = "0.1.0"

from .engine import ImpactError, Result, Run, evaluate_frame, frame_meta, load_scenario, open_tree, run  # noqa: E402

__all__ = ["ImpactError", "Result", "Run", "__version__", "evaluate_frame", "frame_meta", "load_scenario", "open_tree",
           "run"]  # fmt: skip
