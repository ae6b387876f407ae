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
    file: str = ""  # the formulas (or optimization) file that defines it, relative to the tree root


@dataclass
class Constant:
    name: str
    value: float
    unit: str
    description: str
    location: Location
    file: str = ""


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
    optimizations: list[str] = field(default_factory=list)  # overlays applied, in order
    overlaid: dict[str, str] = field(default_factory=dict)  # formula -> the optimization that redefined it

    def names(self) -> list[str]:
        return [*self.inputs, *self.constants, *self.formulas]

    def unit_of(self, name: str) -> str:
        for table in (self.inputs, self.constants, self.formulas):
            if name in table:
                return table[name].unit
        raise KeyError(name)

    def plan(self, overridden=(), targets=None) -> tuple[list[str], list[str], list[str]]:
        """(formulas to evaluate in order, inputs needed, constants needed) when `overridden` names are given
        values, for all formulas or only what `targets` depend on."""
        overridden = set(overridden)
        wanted = set(self.formulas) if targets is None else set()
        stack = list(targets or [])
        while stack:  # everything the targets depend on, stopping at given names
            name = stack.pop()
            if name in wanted or name in overridden or name not in self.formulas:
                continue
            wanted.add(name)
            stack += self.formulas[name].reads
        formulas = [name for name in self.order if name in wanted and name not in overridden]
        read = {name for f in formulas for name in self.formulas[f].reads}
        inputs = [n for n in self.inputs if n in read and n not in overridden]
        constants = [n for n in self.constants if n in read and n not in overridden]
        return formulas, inputs, constants


def parse(doc: Doc, file: str) -> Methodology:
    """Build a Methodology from a schema-valid formulas document. Raises ImpactError on graph problems."""
    data = doc.data
    inputs, problems = parse_inputs(doc, file, ("inputs",), data.get("inputs"))
    constants = {
        name: Constant(
            name, float(spec["value"]), spec["unit"], spec["description"], doc.loc(("constants", name)), file
        )
        for name, spec in (data.get("constants") or {}).items()
    }
    formulas, more = parse_formulas(doc, ("formulas",), data["formulas"])
    problems += more + check_graph(data["methodology"], inputs, constants, formulas)
    known = [*inputs, *constants, *formulas]
    for role, name in (data.get("headline") or {}).items():
        if name not in known:
            message = f"headline {role} names '{name}', which is not defined"
            expected = f"an input or formula of methodology '{data['methodology']}'"
            problems.append(Problem(doc.loc(("headline", role)), message, expected, suggest(name, known)))
    if problems:
        raise ImpactError(problems)
    return Methodology(
        data["methodology"], data["version"], data.get("title", data["methodology"]), data["description"], file,
        inputs, constants, formulas, order(formulas), bool(data.get("default", False)),
        dict(data.get("headline") or {}), doc.loc(("methodology",)),
    )  # fmt: skip


def parse_inputs(doc: Doc, file: str, prefix: tuple, specs) -> tuple[dict[str, Input], list[Problem]]:
    """Inputs from their schema-valid specs at `prefix` in `doc`; bindings must name known entities."""
    inputs, problems = {}, []
    for name, spec in (specs or {}).items():
        raw = spec.get("from", [])
        bindings = [Binding.parse(b) for b in ([raw] if isinstance(raw, str) else raw)]
        for binding in bindings:
            bad = next((e for e in (binding.entity, binding.key_entity) if e and e not in ENTITIES), None)
            if bad:
                message = f"unknown entity '{bad}' in binding '{binding}'"
                expected = "one of " + ", ".join(ENTITIES)
                problems.append(Problem(doc.loc(prefix + (name, "from")), message, expected, suggest(bad, ENTITIES)))
        inputs[name] = Input(
            name, spec["unit"], spec["description"], doc.loc(prefix + (name,)), bindings,
            float(spec.get("scale", 1.0)), spec.get("default"),
            doc.loc(prefix + (name, "default")) if "default" in spec else None,
            spec.get("minimum"), spec.get("maximum"), bool(spec.get("integer", False)),
            spec.get("on_missing", "warn"), file,
        )  # fmt: skip
    return inputs, problems


def parse_formulas(doc: Doc, prefix: tuple, specs) -> tuple[dict[str, Formula], list[Problem]]:
    """Formulas from their specs at `prefix` in `doc`, each expression checked by `expressions.parse`."""
    formulas, problems = {}, []
    for name, spec in (specs or {}).items():
        where = doc.loc(prefix + (name, "expr"))
        try:
            tree = expressions.parse(spec["expr"])
        except expressions.UnsafeExpression as exc:
            problems.append(Problem(where, f"{exc}", expressions.EXPECTED))
            continue
        formulas[name] = Formula(
            name, spec["expr"].strip(), spec["unit"], spec["description"], where, expressions.names(tree),
            list(spec.get("references", [])), bool(spec.get("extensive", False)),
        )  # fmt: skip
    return formulas, problems


def check_graph(methodology: str, inputs, constants, formulas) -> list[Problem]:
    """Every name defined once, none a function name, and every name a formula reads defined."""
    problems, seen = [], {}
    for section, table in (("inputs", inputs), ("constants", constants), ("formulas", formulas)):
        for name, item in table.items():
            if name in expressions.FUNCTIONS:
                problems.append(Problem(item.location, f"'{name}' is the name of a function",
                                        "a name that is not " + ", ".join(sorted(expressions.FUNCTIONS))))  # fmt: skip
            if name in seen:
                first = seen[name]
                problems.append(Problem(item.location, f"'{name}' is already defined in {first[0]} "
                                        f"(line {first[1].location.line})", "each name defined once"))  # fmt: skip
            seen.setdefault(name, (section, item))
    for formula in formulas.values():
        for name in formula.reads:
            if name not in seen:
                problems.append(Problem(formula.location, f"'{name}' is not defined",
                                        f"an input, constant or formula of methodology '{methodology}'",
                                        suggest(name, seen)))  # fmt: skip
    return problems


# the things a binding can read from: the catalog entries and scenario parts a scenario selects
ENTITIES = ("model", "precision", "accelerator", "server", "region", "deployment", "calibration", "request", "hardware")


def order(formulas: dict[str, Formula]) -> list[str]:
    sorter = graphlib.TopologicalSorter({name: [r for r in f.reads if r in formulas] for name, f in formulas.items()})
    try:
        return list(sorter.static_order())
    except graphlib.CycleError as exc:
        cycle = list(reversed(exc.args[1]))  # graphlib lists dependencies first; show "a uses b uses ..."
        first = formulas[cycle[0]]

        def where(name):  # a cycle an overlay creates spans files: name them
            loc = formulas[name].location
            return f"line {loc.line}" if loc.file == first.location.file else f"{loc.file}:{loc.line}"

        chain = " -> ".join(f"{n} ({where(n)})" for n in cycle[:-1]) + f" -> {cycle[-1]}"
        raise ImpactError(
            Problem(first.location, f"formula cycle: {chain}", "formulas that do not depend on themselves")
        ) from None


@dataclass
class Optimization:
    """An overlay: per methodology, inputs it redefines or adds and formulas it redefines."""

    name: str
    version: str
    description: str
    file: str
    doc: Doc
    applies_to: list[str]


def parse_optimization(doc: Doc, file: str) -> Optimization:
    data = doc.data
    return Optimization(data["optimization"], data["version"], data["description"], file, doc, list(data["applies_to"]))


def apply(base: Methodology, opt: Optimization) -> Methodology:
    """`base` with `opt`'s overlay for it: redefined formulas replace the base's (a formula it does not
    define is an error), inputs replace or add (an added input no formula reads is an error), and the whole
    graph is checked again (undefined names, cycles)."""
    prefix = ("applies_to", base.name)
    spec = opt.doc.data["applies_to"][base.name]
    new_inputs, problems = parse_inputs(opt.doc, opt.file, prefix + ("inputs",), spec.get("inputs"))
    new_formulas, more = parse_formulas(opt.doc, prefix + ("formulas",), spec.get("formulas"))
    problems += more
    for name in new_formulas:
        if name in base.overlaid:
            message = (f"optimization '{opt.name}' redefines '{name}', which optimization '{base.overlaid[name]}' "
                       "already redefined: the two do not compose")  # fmt: skip
            problems.append(Problem(opt.doc.loc(prefix + ("formulas", name)), message,
                                    "one optimization that combines both effects"))  # fmt: skip
        elif name not in base.formulas:
            message = f"optimization '{opt.name}' redefines '{name}', which {base.name} does not define as a formula"
            problems.append(Problem(opt.doc.loc(prefix + ("formulas", name)), message,
                                    f"a formula of {base.name}", suggest(name, base.formulas)))  # fmt: skip
    for name, item in list(new_inputs.items()):
        if name in base.formulas or name in base.constants:
            what = "a formula" if name in base.formulas else "a constant"
            problems.append(Problem(item.location, f"'{name}' is {what} of {base.name}, not an input",
                                    "an input name (redefine formulas under formulas:)"))  # fmt: skip
            del new_inputs[name]
    inputs = {**base.inputs, **new_inputs}
    formulas = {**base.formulas, **new_formulas}
    problems += check_graph(base.name, inputs, base.constants, formulas)
    read = {name for f in formulas.values() for name in f.reads}
    for name, item in new_inputs.items():
        if name not in base.inputs and name not in read:
            problems.append(Problem(item.location, f"optimization '{opt.name}' adds input '{name}', which no formula "
                                    f"of {base.name} reads", "a new input that a formula reads, or the name of an "
                                    "existing input", suggest(name, base.inputs)))  # fmt: skip
    if problems:
        raise ImpactError(problems)
    return Methodology(
        base.name, f"{base.version}+{opt.name}.{opt.version}", base.title, base.description, base.file, inputs,
        base.constants, formulas, order(formulas), base.default, base.headline, base.location,
        [*base.optimizations, opt.name], {**base.overlaid, **dict.fromkeys(new_formulas, opt.name)},
    )  # fmt: skip
