"""The impact engine: YAML text -> located mappings -> schema-checked objects -> a formula graph ->
numpy arrays -> result rows. Data flows one way; only `cli.py` prints or exits.

Rooms: `loader` (YAML with positions), `schema` (jsonschema), `tree` (catalogs and methodologies of one
root), `methodology` and `expressions` (the formula graph, safe expressions), `scenario` (what a scenario
selects), `resolve` (input values with sources), `evaluate` (numexpr), `report` (plain rows), `api`.
"""

from .api import Result, Run, load_scenario, open_tree, parse_set, run
from .errors import ImpactError, Location, Problem


def evaluate_frame(frame, scenario, **options):
    """Results for every row of a pandas DataFrame partition (engine.frames; pandas imported on use)."""
    from .frames import evaluate_frame as evaluate

    return evaluate(frame, scenario, **options)


def frame_meta(scenario, **options):
    """The empty DataFrame evaluate_frame returns, for dask's map_partitions(meta=...)."""
    from .frames import frame_meta as meta

    return meta(scenario, **options)


__all__ = ["ImpactError", "Location", "Problem", "Result", "Run", "evaluate_frame", "frame_meta", "load_scenario",
           "open_tree", "parse_set", "run"]  # fmt: skip
