"""A methodology: one formulas file parsed into inputs, constants and a graph of formulas.

Each formula's inputs are derived from its expression (the names it reads); nothing is listed twice by
hand. Loading checks that every name is defined, that no name is defined twice, and that the graph has
no cycle (reported with the whole chain and each formula's line). `plan()` gives the evaluation order for a
run in which some names are overridden: an overridden formula is not computed, and inputs that only it
read are no longer needed. This module does no I/O and never calls numexpr.
"""

from __future__ import annotations

import graphlib
import re
from dataclasses import dataclass, field

from . import expressions
from .errors import ImpactError, Location, Problem, suggest
from .loader import Doc

_BINDING = re.compile(
    r"^(?P<entity>[a-z_]+)\.(?P<field>[A-Za-z0-9_]+)"
    r"(?:\[(?P<key_entity>[a-z_]+)\.(?P<key_field>[A-Za-z0-9_]+)\])?$"
)


@dataclass(frozen=True)
class Binding:
    """Where an input's value comes from: `entity.field`, or `entity.field[key_entity.key_field]`."""

    entity: str
    field: str
    key_entity: str | None = None
    key_field: str | None = None

    @classmethod
    def parse(cls, text: str) -> Binding:
        match = _BINDING.match(text)
        return cls(match["entity"], match["field"], match["key_entity"], match["key_field"])

    def __str__(self) -> str:
        key = f"[{self.key_entity}.{self.key_field}]" if self.key_entity else ""
        return f"{self.entity}.{self.field}{key}"


@dataclass
class Input:
    name: str
    unit: str
    description: str
    location: Location
    bindings: list[Binding] = field(default_factory=list)
    scale: float = 1.0
    default: float | None = None
    default_location: Location | None = None
    minimum: float | None = None
    maximum: float | None = None
    integer: bool = False
    on_missing: str = "warn"  # or "assume": the default is a documented assumption, not a gap


@dataclass
class Constant:
    name: str
    value: float
    unit: str
    description: str
    location: Location


@dataclass
class Formula:
    name: str
    expr: str
    unit: str
    description: str
    location: Location
    reads: list[str]
    references: list[str] = field(default_factory=list)
    extensive: bool = False


@dataclass
class Methodology:
    name: str
    version: str
    title: str
    description: str
    file: str  # relative to the methodology root, for provenance
    inputs: dict[str, Input]
    constants: dict[str, Constant]
    formulas: dict[str, Formula]
    order: list[str]  # all formulas, topologically sorted
    default: bool = False  # run when a scenario names no methodology
    headline: dict[str, str] = field(default_factory=dict)  # role (duration, energy, ...) -> name, for compare
    location: Location | None = None

    def names(self) -> list[str]:
        return [*self.inputs, *self.constants, *self.formulas]

    def unit_of(self, name: str) -> str:
        for table in (self.inputs, self.constants, self.formulas):
            if name in table:
                return table[name].unit
        raise KeyError(name)

    def plan(self, overridden=()) -> tuple[list[str], list[str], list[str]]:
        """(formulas to evaluate in order, inputs needed, constants needed) when `overridden` are given."""
        overridden = set(overridden)
        formulas = [name for name in self.order if name not in overridden]
        read = {name for f in formulas for name in self.formulas[f].reads}
        inputs = [n for n in self.inputs if n in read and n not in overridden]
        constants = [n for n in self.constants if n in read and n not in overridden]
        return formulas, inputs, constants


def parse(doc: Doc, file: str) -> Methodology:
    """Build a Methodology from a schema-valid formulas document. Raises ImpactError on graph problems."""
    data = doc.data
    problems: list[Problem] = []
    inputs, constants, formulas = {}, {}, {}
    for name, spec in (data.get("inputs") or {}).items():
        raw = spec.get("from", [])
        inputs[name] = Input(
            name,
            spec["unit"],
            spec["description"],
            doc.loc(("inputs", name)),
            [Binding.parse(b) for b in ([raw] if isinstance(raw, str) else raw)],
            float(spec.get("scale", 1.0)),
            spec.get("default"),
            doc.loc(("inputs", name, "default")) if "default" in spec else None,
            spec.get("minimum"),
            spec.get("maximum"),
            bool(spec.get("integer", False)),
            spec.get("on_missing", "warn"),
        )
    for name, spec in (data.get("constants") or {}).items():
        constants[name] = Constant(
            name, float(spec["value"]), spec["unit"], spec["description"], doc.loc(("constants", name))
        )
    for name, spec in data["formulas"].items():
        where = doc.loc(("formulas", name, "expr"))
        try:
            tree = expressions.parse(spec["expr"])
        except expressions.UnsafeExpression as exc:
            problems.append(Problem(where, f"{exc}", expressions.EXPECTED))
            continue
        formulas[name] = Formula(
            name,
            spec["expr"].strip(),
            spec["unit"],
            spec["description"],
            where,
            expressions.names(tree),
            list(spec.get("references", [])),
            bool(spec.get("extensive", False)),
        )
    problems += _check_names(doc, data, inputs, constants, formulas)
    if problems:
        raise ImpactError(problems)
    order = _order(formulas)
    return Methodology(
        data["methodology"],
        data["version"],
        data.get("title", data["methodology"]),
        data["description"],
        file,
        inputs,
        constants,
        formulas,
        order,
        bool(data.get("default", False)),
        dict(data.get("headline") or {}),
        doc.loc(("methodology",)),
    )


def _check_names(doc, data, inputs, constants, formulas) -> list[Problem]:
    problems = []
    seen = {}
    for section, table in (("inputs", inputs), ("constants", constants), ("formulas", formulas)):
        for name in table:
            if name in expressions.FUNCTIONS:
                problems.append(
                    Problem(
                        doc.loc((section, name)),
                        f"'{name}' is the name of a function",
                        "a name that is not " + ", ".join(sorted(expressions.FUNCTIONS)),
                    )
                )
            if name in seen:
                line = doc.loc((seen[name], name)).line
                problems.append(
                    Problem(
                        doc.loc((section, name)),
                        f"'{name}' is already defined in {seen[name]} (line {line})",
                        "each name defined once",
                    )
                )
            seen.setdefault(name, section)
    known = list(seen)
    for formula in formulas.values():
        for name in formula.reads:
            if name not in seen:
                problems.append(
                    Problem(
                        formula.location,
                        f"'{name}' is not defined",
                        f"an input, constant or formula of methodology '{data['methodology']}'",
                        suggest(name, known),
                    )
                )
    for role, name in (data.get("headline") or {}).items():
        if name not in seen:
            problems.append(
                Problem(
                    doc.loc(("headline", role)),
                    f"headline {role} names '{name}', which is not defined",
                    f"an input or formula of methodology '{data['methodology']}'",
                    suggest(name, known),
                )
            )
    for name, item in inputs.items():
        for binding in item.bindings:
            if binding.entity not in ENTITIES or (binding.key_entity and binding.key_entity not in ENTITIES):
                bad = binding.entity if binding.entity not in ENTITIES else binding.key_entity
                problems.append(
                    Problem(
                        doc.loc(("inputs", name, "from")),
                        f"unknown entity '{bad}' in binding '{binding}'",
                        "one of " + ", ".join(ENTITIES),
                        suggest(bad, ENTITIES),
                    )
                )
    return problems


# the things a binding can read from: the catalog entries and scenario parts a scenario selects
ENTITIES = ("model", "precision", "accelerator", "server", "region", "deployment", "calibration", "request", "hardware")


def _order(formulas: dict[str, Formula]) -> list[str]:
    sorter = graphlib.TopologicalSorter({name: [r for r in f.reads if r in formulas] for name, f in formulas.items()})
    try:
        return list(sorter.static_order())
    except graphlib.CycleError as exc:
        cycle = list(reversed(exc.args[1]))  # graphlib lists dependencies first; show "a uses b uses ..."
        first = formulas[cycle[0]]
        chain = " -> ".join(f"{n} (line {formulas[n].location.line})" for n in cycle[:-1]) + f" -> {cycle[-1]}"
        raise ImpactError(
            Problem(first.location, f"formula cycle: {chain}", "formulas that do not depend on themselves")
        ) from None
