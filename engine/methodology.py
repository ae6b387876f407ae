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
from .calibration_spec import check_fitted
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
    on_fallback: str = "quiet"  # or "warn", "assume": note when a binding after the first answered


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
class Check:
    """A condition a run must meet (`level: error`), or that adds a warning or an assumption to its output."""

    name: str
    expr: str
    level: str
    message: str
    location: Location
    reads: list[str]
    when: str | None = None
    expected: str | None = None
    at: str | None = None  # the scenario key the message points at, e.g. serving.concurrency


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
    checks: dict[str, Check] = field(default_factory=dict)  # conditions a run must meet (engine.checks)
    calibration: dict | None = None  # what `impact calibrate` fits, and on which tables (engine.fitting)
    bases: list[str] = field(default_factory=list)  # files of the methodologies this one extends, base first

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


def parse(doc: Doc, file: str, base: Methodology | None = None) -> Methodology:
    """Build a Methodology from a schema-valid formulas document. Raises ImpactError on graph problems.

    With `base` (the methodology the file `extends:`), the file's inputs, constants and formulas are laid over
    the base's (a name defined again replaces the base's), the formulas it lists under `drop:` are removed, and the
    whole graph is checked again; the headline and calibration are inherited unless the file gives its own."""
    data = doc.data
    inputs, problems = parse_inputs(doc, file, ("inputs",), data.get("inputs"))
    constants = {
        name: Constant(
            name, float(spec["value"]), spec["unit"], spec["description"], doc.loc(("constants", name)), file
        )
        for name, spec in (data.get("constants") or {}).items()
    }
    formulas, more = parse_formulas(doc, ("formulas",), data.get("formulas") or {})
    failed = set(data.get("formulas") or {}) - set(formulas)  # reported once, where they are written
    problems += more
    if base is not None:
        for i, name in enumerate(data.get("drop") or []):
            if name not in base.formulas:
                problems.append(Problem(doc.loc(("drop", i)), f"'{name}' is not a formula of {base.name}",
                                        f"a formula of {base.name}", suggest(name, base.formulas)))  # fmt: skip
        kept = {n: f for n, f in base.formulas.items() if n not in (data.get("drop") or [])}
        inputs = {**{n: i for n, i in base.inputs.items() if n not in formulas}, **inputs}
        constants = {**base.constants, **constants}
        formulas = {**kept, **formulas}
        read = {r for f in formulas.values() for r in f.reads}
        inputs = {n: i for n, i in inputs.items() if n in read or n in (data.get("inputs") or {})}
    elif not formulas and not problems:
        problems.append(Problem(doc.loc(), "missing required key 'formulas'", "formulas, or extends: a methodology"))
    problems += check_graph(data["methodology"], inputs, constants, formulas, failed)
    known = [*inputs, *constants, *formulas]
    headline = dict(data.get("headline") or (base.headline if base else {}))
    for role, name in headline.items():
        if name not in known:
            message = f"headline {role} names '{name}', which is not defined"
            expected = f"an input or formula of methodology '{data['methodology']}'"
            problems.append(Problem(doc.loc(("headline", role)), message, expected, suggest(name, known)))
    checks, more = parse_checks(doc, data.get("checks"), set(known))
    problems += more
    if problems:
        raise ImpactError(problems)
    if base is not None:
        checks = {**base.checks, **checks}
    calibration = data.get("calibration", base.calibration if base else None)
    if data.get("calibration"):
        check_fitted(doc, data["calibration"], inputs)
    return Methodology(
        data["methodology"], data["version"], data.get("title", data["methodology"]), data["description"], file,
        inputs, constants, formulas, order(formulas), bool(data.get("default", False)),
        headline, doc.loc(("methodology",)), checks=checks, calibration=calibration,
        bases=[*base.bases, base.file] if base else [],
    )  # fmt: skip


def parse_checks(doc: Doc, specs, known: set[str]) -> tuple[dict[str, Check], list[Problem]]:
    """Checks from their specs: each condition (and `when`) a safe expression over known names."""
    checks, problems = {}, []
    for name, spec in (specs or {}).items():
        reads = []
        for key in ("expr", "when"):
            if key not in spec:
                continue
            where = doc.loc(("checks", name, key))
            try:
                found = expressions.names(expressions.parse(spec[key]))
            except expressions.UnsafeExpression as exc:
                problems.append(Problem(where, f"{exc}", expressions.EXPECTED))
                continue
            for read in found:
                if read not in known:
                    problems.append(Problem(where, f"'{read}' is not defined", "an input, constant or formula",
                                            suggest(read, known)))  # fmt: skip
            reads += found
        for read in re.findall(r"\{([A-Za-z_][A-Za-z0-9_]*)\}", spec["message"]):
            if read not in known:
                problems.append(Problem(doc.loc(("checks", name, "message")), f"'{{{read}}}' names nothing defined",
                                        "{name} of an input, constant or formula", suggest(read, known)))  # fmt: skip
            reads.append(read)
        checks[name] = Check(
            name, spec["expr"], spec["level"], spec["message"], doc.loc(("checks", name)),
            list(dict.fromkeys(reads)), spec.get("when"), spec.get("expected"), spec.get("at"),
        )  # fmt: skip
    return checks, problems


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
            spec.get("on_missing", "warn"), file, spec.get("on_fallback", "quiet"),
        )  # fmt: skip
    return inputs, problems


def parse_formulas(doc: Doc, prefix: tuple, specs) -> tuple[dict[str, Formula], list[Problem]]:
    """Formulas from their specs at `prefix` in `doc`, each expression checked by `expressions.parse` and
    `expressions.lower` (a constant part that is not a finite real number is refused here, at its line)."""
    formulas, problems = {}, []
    for name, spec in (specs or {}).items():
        where = doc.loc(prefix + (name, "expr"))
        try:
            tree = expressions.parse(spec["expr"])
            expressions.lower(spec["expr"])
        except expressions.UnsafeExpression as exc:
            problems.append(Problem(where, f"{exc}", expressions.EXPECTED))
            continue
        formulas[name] = Formula(
            name, spec["expr"].strip(), spec["unit"], spec["description"], where, expressions.names(tree),
            list(spec.get("references", [])), bool(spec.get("extensive", False)),
        )  # fmt: skip
    return formulas, problems


def check_graph(methodology: str, inputs, constants, formulas, failed=()) -> list[Problem]:
    """Every name defined once, none a function or reserved name, and every name a formula reads defined. The
    names in `failed` are formulas whose expression was refused (and reported): reading them is no new error."""
    problems, seen = [], {}
    for section, table in (("inputs", inputs), ("constants", constants), ("formulas", formulas)):
        for name, item in table.items():
            if name in expressions.FUNCTIONS:
                problems.append(Problem(item.location, f"'{name}' is the name of a function",
                                        "a name that is not " + ", ".join(sorted(expressions.FUNCTIONS))))  # fmt: skip
            elif name in expressions.RESERVED:
                problems.append(Problem(item.location, f"'{name}' is reserved (numexpr has a function of that name)",
                                        "another name, e.g. " + name + "_value"))  # fmt: skip
            if name in seen:
                first = seen[name]
                problems.append(Problem(item.location, f"'{name}' is already defined in {first[0]} "
                                        f"(line {first[1].location.line})", "each name defined once"))  # fmt: skip
            seen.setdefault(name, (section, item))
    for formula in formulas.values():
        for name in formula.reads:
            if name not in seen and name not in failed:
                problems.append(Problem(formula.location, f"'{name}' is not defined",
                                        f"an input, constant or formula of methodology '{methodology}'",
                                        suggest(name, seen)))  # fmt: skip
    return problems


# the things a binding can read from: the catalog entries and scenario parts a scenario selects
ENTITIES = ("model", "precision", "accelerator", "server", "region", "deployment", "calibration", "request", "hardware",
            "engine", "serving")  # fmt: skip


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
    failed = set(spec.get("formulas") or {}) - set(new_formulas)
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
    problems += check_graph(base.name, inputs, base.constants, formulas, failed)
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
        base.checks, base.calibration, base.bases,
    )  # fmt: skip
