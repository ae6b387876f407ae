"""The impact engine: YAML text -> located mappings -> schema-checked objects -> a formula graph ->
numpy arrays -> result rows. Data flows one way; only `cli.py` prints or exits.

Rooms: `loader` (YAML with positions), `schema` (jsonschema), `tree` (catalogs and methodologies of one
root), `methodology` and `expressions` (the formula graph, safe expressions), `scenario` (what a scenario
selects), `resolve` (input values with sources), `evaluate` (numexpr), `report` (plain rows), `api`.
"""

from .api import Result, Run, load_scenario, open_tree, parse_set, run
from .errors import ImpactError, Location, Problem

__all__ = ["ImpactError", "Location", "Problem", "Result", "Run", "load_scenario", "open_tree", "parse_set", "run"]
