"""Why results moved: what differs between two methodology trees, and what each result reads.

Every difference is a `Change` with an identity, a `group` and a `path` inside it:

- a definition: ("formula" | "input" | "constant", file, methodology, name), path () (an optimization's
  overlay is its own file, so `t_out` of scope3 and `t_out` of the batching overlay are different groups);
- a catalog field: ("catalog", catalog, id), path the field inside the entry, e.g. ("dense_tflops", "fp16");
  the calibrations catalog is labelled "calibration";
- a data table (catalogs/benchmarks/, e.g. the API prices behind an estimated model size): ("table", file);
- a scenario file: ("scenario", file name), path inside the scenario; and a scenario's choice of catalog
  entry (which accelerator, region, ...), ("select", file name, entity), however that choice was made.

`reads(run, name, tree)` gives the identities that result `name` of `run` depends on: the formulas on its
derivation path, the inputs and constants they read, and for each input the catalog or scenario fields its
bindings looked at: the one that answered and those tried before it that had no value (adding that field
would change the value). A change moves a result when the result reads its group at a path that is a
prefix of the change's path or the other way round (a whole entry added; one field of it read). This
module compares loaded trees and runs; it evaluates nothing and prints nothing.
"""

from __future__ import annotations

import ast
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from .loader import render_path
from .methodology import parse_formulas, parse_inputs

ABSENT = None  # how a value missing on one side is recorded
# the scenario keys that choose each entity, for a change in a scenario file
CHOOSERS = {
    "model": [("model",)],
    "precision": [("precision",)],
    "calibration": [("calibration",)],
    "deployment": [("deployment",)],
    "accelerator": [("hardware", "accelerator"), ("hardware", "server")],
    "server": [("hardware", "server"), ("hardware", "accelerator")],
    "region": [("location",)],
    "hardware": [("hardware", "gpus")],
}
# sweep keys that choose catalog entries point by point, and the catalog each names
SWEPT = {"model": "models", "precision": "precisions", "hardware": "accelerators", "server": "servers",
         "location": "regions", "deployment": "deployments", "calibration": "calibrations"}  # fmt: skip
PRICES = "catalogs/benchmarks/api-prices.yaml"  # read to estimate a closed model's size (engine/estimate.py)


@dataclass
class Change:
    """One difference between the trees: what, old and new value, where (file:line in HEAD, else BASE)."""

    kind: str  # formula, input, constant, catalog, calibration, data table, scenario, selection, methodology
    group: tuple
    path: tuple
    what: str
    old: object
    new: object
    where: str
    moves: list = field(default_factory=list)  # ResultChanges it moves
    id: int = 0

    def to_dict(self) -> dict:
        return {"id": self.id, "kind": self.kind, "what": self.what, "old": self.old, "new": self.new,
                "where": self.where, "moves": [r.label for r in self.moves]}  # fmt: skip


# ---- differences between two trees


def tree_changes(base, head) -> list[Change]:
    """Every difference in methodologies, optimizations, catalogs and data tables (loading both trees)."""
    changes = _methodology_changes(base, head)
    changes += _definition_changes(_definitions(base), _definitions(head))
    changes += _catalog_changes(base, head)
    return changes + _table_changes(base, head)


def _methodology_changes(base, head) -> list[Change]:
    out = []
    for kind, old, new in (("methodology", base.methodologies(), head.methodologies()),
                           ("optimization", base.optimizations(), head.optimizations())):  # fmt: skip
        for name in _union(old, new):
            a, b = old.get(name), new.get(name)
            if a is None or b is None or a.version != b.version:
                where = (b or a).file
                out.append(Change(kind, (kind, name), (), f"{name} version", a and a.version, b and b.version, where))
    return out


def _definitions(tree) -> dict[tuple, tuple[dict, str]]:
    """(kind, file, methodology, name) -> (what decides its value, file:line) for every input, constant and
    formula of the tree's methodologies and of its optimizations' overlays."""
    out: dict[tuple, tuple[dict, str]] = {}
    for method in tree.methodologies().values():
        _add_definitions(out, method.file, method.name, method.inputs, method.constants, method.formulas)
    for opt in tree.optimizations().values():
        for name, spec in opt.doc.data["applies_to"].items():
            prefix, spec = ("applies_to", name), spec or {}
            inputs, _ = parse_inputs(opt.doc, opt.file, prefix + ("inputs",), spec.get("inputs"))
            formulas, _ = parse_formulas(opt.doc, prefix + ("formulas",), spec.get("formulas"))
            _add_definitions(out, opt.file, name, inputs, {}, formulas)
    return out


def _add_definitions(out: dict, file: str, methodology: str, inputs, constants, formulas) -> None:
    for name, item in inputs.items():
        sig = {"unit": item.unit, "from": [str(b) for b in item.bindings], "scale": item.scale,
               "default": item.default, "minimum": item.minimum, "maximum": item.maximum,
               "integer": item.integer, "on_missing": item.on_missing,
               **({"on_fallback": item.on_fallback} if item.on_fallback != "quiet" else {})}  # fmt: skip
        own = item.file or file  # an input inherited through extends: is written in its base's file
        out[("input", own, methodology, name)] = (sig, f"{own}:{item.location.line}")
    for name, item in constants.items():
        own = item.file or file
        out[("constant", own, methodology, name)] = ({"value": item.value, "unit": item.unit},
                                                     f"{own}:{item.location.line}")  # fmt: skip
    for name, item in formulas.items():
        sig = {"expr": normalized(item.expr), "unit": item.unit, "extensive": item.extensive}
        out[("formula", file, methodology, name)] = (sig, f"{file}:{item.location.line}")


def normalized(expr: str) -> str:
    """An expression as Python writes it back, so a change of spacing or line breaks is no change."""
    return ast.unparse(ast.parse(expr.strip(), mode="eval"))


def _definition_changes(base: dict, head: dict) -> list[Change]:
    out = []
    for group in _union(base, head):
        kind, _file, methodology, name = group
        (old, where_old), (new, where_new) = base.get(group, (None, "")), head.get(group, (None, ""))
        what, where = f"{methodology}.{name}", where_new or where_old
        if old is None or new is None:
            out.append(Change(kind, group, (), what, _summary(kind, old), _summary(kind, new), where))
            continue
        for key in old:
            if old[key] != new[key]:
                out.append(Change(kind, group, (), f"{what} {key}", old[key], new[key], where))
    return out


def _summary(kind: str, sig: dict | None) -> str | None:
    """A definition in one line, for one added or removed."""
    if sig is None:
        return ABSENT
    unit = f" [{sig['unit']}]" if sig["unit"] else ""
    if kind == "formula":
        return sig["expr"] + unit
    if kind == "constant":
        return f"{_number(sig['value'])}{unit}"
    given = [f"from {', '.join(sig['from'])}"] if sig["from"] else []
    given += [f"default {_number(sig['default'])}"] if sig["default"] is not None else []
    return (", ".join(given) or "no binding or default") + unit


def _number(value) -> str:
    return f"{value:g}" if isinstance(value, (int, float)) and not isinstance(value, bool) else str(value)


def _catalog_changes(base, head) -> list[Change]:
    out = []
    old_tables, new_tables = base.catalogs(), head.catalogs()
    for catalog in _union(old_tables, new_tables):
        old, new = old_tables.get(catalog, {}), new_tables.get(catalog, {})
        kind = "calibration" if catalog == "calibrations" else "catalog"
        for entry_id in _union(old, new):
            a, b = old.get(entry_id), new.get(entry_id)
            entry = b or a
            for path, was, now in flat_diff(a.data if a else _MISSING, b.data if b else _MISSING):
                what = ("" if kind == "calibration" else f"{catalog} ") + entry_id + "".join(f".{p}" for p in path)
                where = f"{entry.file}:{entry.loc(*path).line}"
                out.append(Change(kind, ("catalog", catalog, entry_id), path, what, _plain(was), _plain(now), where))
    return out


def _table_changes(base, head) -> list[Change]:
    """Files of catalogs/ that are not catalogs (benchmark and price tables), compared by content."""
    catalog_files = {e.file for tree in (base, head) for table in tree.catalogs().values() for e in table.values()}

    def tables(tree) -> dict[str, str]:
        found = sorted((tree.root / "catalogs").rglob("*.yaml"))
        files = {tree.relative(p): p for p in found if tree.relative(p) not in catalog_files}
        return {name: "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()[:12] for name, path in files.items()}

    old, new = tables(base), tables(head)
    return [Change("data table", ("table", name), (), name, old.get(name), new.get(name), name)
            for name in _union(old, new) if old.get(name) != new.get(name)]  # fmt: skip


def scenario_changes(name: str, base_runs, head_runs) -> list[Change]:
    """Differences in one scenario file (present in both trees), and in the entries it selects."""
    old, new = base_runs[0].scenario, head_runs[0].scenario
    shown = f"scenarios/{name}"
    out = []
    for path, was, now in flat_diff(old.doc.data, new.doc.data):
        doc = new.doc if now is not _MISSING else old.doc
        where = f"{shown}:{doc.loc(path).line}"
        out.append(Change("scenario", ("scenario", name), path, f"{name} {render_path(path)}", _plain(was),
                          _plain(now), where))  # fmt: skip
    chosen_old, chosen_new = old.describe(), new.describe()
    for entity in _union(chosen_old, chosen_new):
        if chosen_old.get(entity) != chosen_new.get(entity):
            what = f"{name} selects {entity}"
            out.append(Change("selection", ("select", name, entity), (), what, chosen_old.get(entity),
                              chosen_new.get(entity), shown))  # fmt: skip
    return out


class _Missing:
    def __repr__(self) -> str:
        return "(absent)"


_MISSING = _Missing()


def flat_diff(old, new, path: tuple = ()) -> list[tuple[tuple, object, object]]:
    """(path, old, new) for every leaf where two YAML values differ; mappings are compared key by key."""
    if isinstance(old, dict) and isinstance(new, dict):
        out = []
        for key in _union(old, new):
            out += flat_diff(old.get(key, _MISSING), new.get(key, _MISSING), path + (key,))
        return out
    same = type(old) is type(new) or {type(old), type(new)} <= {int, float}  # 1 and 1.0 are the same number
    return [] if same and old == new else [(path, old, new)]


def _plain(value):
    return ABSENT if value is _MISSING else value


def _union(a, b) -> list:
    return list(dict.fromkeys([*a, *b]))


# ---- what a result reads


def reads(run, name: str, tree) -> set[tuple[tuple, tuple]]:
    """(group, path) of everything result `name` of `run` depends on (see the module docstring)."""
    scenario = Path(run.scenario.file).name
    out = {(("scenario", scenario), (key,)) for key in ("methodology", "optimizations", "sweep")}
    formulas, leaves = _derivation(run, name)
    method = run.method
    for formula in formulas:
        overlay = method.overlaid.get(formula)
        file = tree.optimizations()[overlay].file if overlay else method.file
        out.add((("formula", file, method.name, formula), ()))
    for leaf in leaves:
        if leaf in run.scenario.overrides:
            out.add((("scenario", scenario), ("set", leaf)))
        elif leaf in method.constants:
            out.add((("constant", method.constants[leaf].file, method.name, leaf), ()))
        elif leaf in method.inputs:
            item = method.inputs[leaf]
            out.add((("input", item.file, method.name, leaf), ()))
            out |= _binding_reads(item, run.scenario, scenario)
    return _swept(out, getattr(run, "points", None) or {})


def _derivation(run, name: str) -> tuple[set[str], set[str]]:
    """The formulas on the derivation path of `name`, and the inputs, constants and overrides at its leaves."""
    method = run.method
    overridden = {n for n in run.inputs if n in method.formulas}  # a formula given a value is a leaf
    formulas, inputs, constants = method.plan(overridden, [name])
    read = {r for f in formulas for r in method.formulas[f].reads} | {name}
    return set(formulas), {*inputs, *constants, *(overridden & read)}


def _binding_reads(item, scenario, name: str) -> set:
    """The fields an input's bindings looked at, in order, up to the first that holds a value."""
    out = set()
    for binding in item.bindings:
        entry = scenario.entities.get(binding.entity)
        if entry is None:
            continue
        path = (binding.field,)
        out |= _chosen(binding.entity, name)
        if binding.key_entity and binding.key_entity in scenario.entities:
            key_entry = scenario.entities[binding.key_entity]
            out |= {_entry_read(key_entry, (binding.key_field,), name), *_chosen(binding.key_entity, name)}
            path += (key_entry.data.get(binding.key_field),)
        out.add(_entry_read(entry, path, name))
        if "provider" in entry.data and entry.prefix == ("model",):  # a size estimated from the price table
            out.add((("table", PRICES), ()))
        if _get(entry.data, path) is not None:
            break
    return out


def _chosen(entity: str, name: str) -> set:
    """What chose the entry of `entity`: the scenario's keys for it, its deployment, and the choice itself."""
    if entity == "request":
        return set()
    keys = [*CHOOSERS.get(entity, [(entity,)]), ("deployment",)]
    return {(("select", name, entity), ()), *((("scenario", name), key) for key in keys)}


def _entry_read(entry, path: tuple, name: str) -> tuple:
    data = entry.doc.data
    if isinstance(data, dict) and data.get("kind") == "catalog" and entry.prefix[:1] == ("entries",):
        return ("catalog", data["catalog"], entry.prefix[1]), entry.prefix[2:] + path
    return ("scenario", name), entry.prefix + path  # the scenario's request, hardware or inline model


def _get(data, path: tuple):
    for key in path:
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data


def _swept(out: set, points: dict) -> set:
    """With a sweep over catalog entries, the same fields of every entry swept over."""
    more = set()
    for key, values in points.items():
        catalog = SWEPT.get(key)
        for group, path in out:
            if catalog and group[:2] == ("catalog", catalog):
                more |= {(("catalog", catalog, str(v)), path) for v in set(values)}
    return out | more


def moves(change: Change, index: dict[tuple, list[tuple]]) -> bool:
    """Whether a result whose reads are `index` (group -> paths) depends on `change`."""
    size = len(change.path)
    return any(p[:size] == change.path or change.path[: len(p)] == p for p in index.get(change.group, ()))
