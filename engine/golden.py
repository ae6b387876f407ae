"""Golden results: what each scenario of a tree computed when a person last reviewed it.

`scenarios/golden/<scenario file stem>.json` is written by `impact check --update-golden`, reviewed as a diff
and committed; `impact check` re-runs the scenario and compares:

    {
      "kind": "golden",
      "schema_version": 1,
      "scenario": "chatbot-llama70b-h100.yaml",
      "tolerance": {
        "default": {"rel": 1e-06},
        "scope3.E": {"rel": 0.01}
      },
      "methodologies": {
        "scope3": {
          "version": "1.0.0",
          "results": {
            "E": {"value": 0.17653775, "unit": "Wh"},
            ...

Every result of every methodology the scenario runs is recorded, one a line so that a review diff shows which
moved (a sweep's results as lists, one value per point). A tolerance applies to a result by
`methodology.result`, else by result name, else `default`, else rel 1e-6; a value passes when it is within
rel x |golden| or abs (in the result's unit) of the golden, either one. Rewriting a golden keeps the
tolerances a person set. Drift beyond the tolerance, a result or methodology gone, or a changed unit is an
error pointing at the golden's line; a new result, a scenario without a golden, or a golden without a scenario
is a warning. The JSON is read with the YAML loader, so problems carry lines; it is validated against
schemas/golden.v1.json and written whole to a temporary file, then renamed.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path

import numpy as np

from .errors import ImpactError, Location, Problem, display_path, suggest
from .loader import Doc, load_file
from .schema import Schemas
from .tree import SHIPPED_ROOT

DEFAULT_TOLERANCE = {"rel": 1e-6}
FOLDER = ("scenarios", "golden")
UPDATE = "impact check --update-golden, then review the diff"


def path_for(root: Path, scenario: Path) -> Path:
    return Path(root).joinpath(*FOLDER, f"{Path(scenario).stem}.json")


def document(scenario_name: str, runs, tolerance: dict) -> dict:
    """The golden of a scenario's runs."""

    def plain(array):
        values = [float(x) for x in np.asarray(array, dtype=float).ravel()]
        return values[0] if len(values) == 1 else values

    def results(run):
        return {name: {"value": plain(r.value), "unit": r.unit} for name, r in run.results.items()}

    methodologies = {r.methodology: {"version": r.version, "results": results(r)} for r in runs}
    return {"kind": "golden", "schema_version": 1, "scenario": scenario_name, "tolerance": tolerance,
            "methodologies": methodologies}  # fmt: skip


def text(golden: dict) -> str:
    """JSON with each list of numbers, then each innermost mapping (a result, a tolerance), on one line."""
    out = json.dumps(golden, indent=2)
    for flat in (r"(\[)\n\s+([^{}\[\]]*?)\n\s+(\])", r"(\{)\n\s+([^{}]*?)\n\s+(\})"):
        out = re.sub(flat, lambda m: m[1] + re.sub(r"\n\s+", " ", m[2]) + m[3], out)
    return out + "\n"


def load(path: Path, schemas: Schemas) -> Doc:
    doc = load_file(path)
    _schemas(schemas).validate(doc, "golden")
    return doc


def _schemas(schemas: Schemas) -> Schemas:
    """A tree's own schemas/ may predate goldens: then the shipped schema is used."""
    return schemas if "golden.v1" in schemas.names() else Schemas(SHIPPED_ROOT / "schemas")


def write(target: Path, scenario_name: str, runs, schemas: Schemas) -> bool:
    """Write (or rewrite, keeping its tolerances) the golden of `runs`; False when it was already so."""
    tolerance = {"default": dict(DEFAULT_TOLERANCE)}
    if target.exists():
        try:
            tolerance = load(target, schemas).data.get("tolerance") or tolerance
        except ImpactError:
            pass  # an unreadable golden is replaced whole
    content = text(document(scenario_name, runs, tolerance))
    if target.exists() and target.read_text(encoding="utf-8") == content:
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, suffix=".json.tmp")
    try:  # write whole, then rename: nothing half-written
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(content)
        os.replace(temporary, target)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return True


def compare(target: Path, scenario: Doc, runs, schemas: Schemas) -> list[tuple[str, Problem]]:
    """(level, problem) for every difference between a scenario's runs and its golden."""
    if not target.exists():
        message = f"no golden results ({display_path(target)})"
        return [("warning", Problem(scenario.loc(), message, f"a golden file: {UPDATE}"))]
    try:
        doc = load(target, schemas)
    except ImpactError as exc:
        return [("error", problem) for problem in exc.problems]
    tolerances = doc.data.get("tolerance") or {}
    by_name = {r.methodology: r for r in runs}
    out = []
    for name, body in doc.data["methodologies"].items():
        at = ("methodologies", name)
        if name not in by_name:
            message = f"the golden has methodology '{name}', which the scenario no longer runs"
            out.append(("error", Problem(doc.loc(at), message, "one of " + ", ".join(by_name) + f"; or {UPDATE}",
                                         suggest(name, by_name))))  # fmt: skip
            continue
        run = by_name[name]
        for result, old in body["results"].items():
            out += _result(doc, at + ("results", result), run, result, old, tolerances)
        new = [n for n in run.results if n not in body["results"]]
        if new:
            message = f"{name} now computes {', '.join(new)}, which the golden lacks"
            out.append(("warning", Problem(doc.loc(at + ("results",)), message, UPDATE)))
    for name in by_name:
        if name not in doc.data["methodologies"]:
            message = f"the scenario now runs methodology '{name}', which the golden lacks"
            out.append(("warning", Problem(doc.loc(("methodologies",)), message, UPDATE)))
    return out + _unknown_tolerances(doc, tolerances, runs)


def _result(doc: Doc, at: tuple, run, name: str, old: dict, tolerances: dict) -> list[tuple[str, Problem]]:
    key = f"{run.methodology}.{name}"
    if name not in run.results:
        message = f"{key} is in the golden, but {run.methodology} no longer computes it"
        return [("error", Problem(doc.loc(at), message, f"a result of {run.methodology}; or {UPDATE}",
                                  suggest(name, run.results)))]  # fmt: skip
    result = run.results[name]
    if result.unit != old["unit"]:
        message = f"{key} is now in '{result.unit}', the golden in '{old['unit']}'"
        return [("error", Problem(doc.loc(at + ("unit",)), message, f"the golden's unit; or {UPDATE}"))]
    before = np.asarray(old["value"] if isinstance(old["value"], list) else [old["value"]], dtype=float)
    after = np.asarray(result.value, dtype=float).ravel()
    if len(before) != len(after):
        message = f"{key} has {len(after)} value(s), the golden {len(before)}"
        return [("error", Problem(doc.loc(at + ("value",)), message, f"as many values as points; or {UPDATE}"))]
    tolerance, source = _tolerance(tolerances, run.methodology, name)
    bound = np.maximum(tolerance.get("rel", 0) * np.abs(before), tolerance.get("abs", 0))
    diff = np.abs(after - before)
    miss = diff > bound * (1 + 1e-12)
    allowed = _describe(tolerance, result.unit) + f" ({source})"
    if miss.any():
        k = int(np.argmax(np.where(miss, diff / np.maximum(np.abs(before), 1e-300), -1)))
        index = f"[{k}]" if len(after) > 1 else ""
        more = f" (and {int(miss.sum()) - 1} more of {len(after)} points)" if miss.sum() > 1 else ""
        old, new = (f"{x:.10g} {result.unit}".rstrip() for x in (before[k], after[k]))
        change = _change(before[k], after[k], result.unit)
        message = f"{key}{index} drifted: golden {old}, now {new}, a change of {change}{more}"
        return [("error", Problem(doc.loc(at), message, f"a change within {allowed}; or {UPDATE}"))]
    if diff.any():
        k = int(np.argmax(diff))
        change = _change(before[k], after[k], result.unit)
        return [("note", Problem(doc.loc(at), f"{key} moved by {change}, within {allowed}"))]
    return []


def _tolerance(tolerances: dict, methodology: str, name: str) -> tuple[dict, str]:
    for key in (f"{methodology}.{name}", name, "default"):
        if key in tolerances:
            return tolerances[key], f"tolerance '{key}'"
    return DEFAULT_TOLERANCE, "the built-in default"


def _describe(tolerance: dict, unit: str) -> str:
    parts = [f"rel {tolerance['rel']:g}"] if "rel" in tolerance else []
    parts += [f"abs {tolerance['abs']:g} {unit}".rstrip()] if "abs" in tolerance else []
    return " or ".join(parts)


def _change(before: float, after: float, unit: str) -> str:
    if before == 0:
        return f"{after - before:+.3g} {unit}".rstrip()
    return f"{(after - before) / abs(before) * 100:+.3g}%"


def _unknown_tolerances(doc: Doc, tolerances: dict, runs) -> list[tuple[str, Problem]]:
    """A tolerance for a result the scenario does not compute would silently never apply."""
    out = []
    results = {f"{r.methodology}.{n}" for r in runs for n in r.results} | {n for r in runs for n in r.results}
    for key in tolerances:
        if key != "default" and key not in results:
            message = f"the tolerance '{key}' names no result of the scenario"
            expected = "default, RESULT or METHODOLOGY.RESULT"
            out.append(("warning", Problem(doc.loc(("tolerance", key)), message, expected, suggest(key, results))))
    return out


def orphans(root: Path) -> list[tuple[str, Problem]]:
    """Golden files whose scenario no longer exists."""
    scenarios = {p.stem for p in Path(root).joinpath("scenarios").glob("*.yaml")}
    out = []
    for path in sorted(Path(root).joinpath(*FOLDER).glob("*.json")):
        if path.stem not in scenarios:
            message = f"golden results for scenarios/{path.stem}.yaml, which does not exist"
            out.append(("warning", Problem(Location(display_path(path), 1, 1), message,
                                           "a scenario of that name, or remove this file")))  # fmt: skip
    return out
