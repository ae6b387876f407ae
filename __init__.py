"""impact: an open, declarative calculator for the footprint of LLM inference.

The methodology is data (`formulas/*.yaml`, `catalogs/*.yaml`); this package evaluates it. Public API:
`run`, `load_scenario`, `open_tree`, `ImpactError` (see `impact.engine.api`).
"""

__version__ = "0.1.0"

from .engine import ImpactError, Result, Run, load_scenario, open_tree, run  # noqa: E402

__all__ = ["ImpactError", "Result", "Run", "__version__", "load_scenario", "open_tree", "run"]
