"""`impact check`: a gate for a methodology tree, collecting every problem rather than stopping at the first.

Three passes, each adding findings to one `Report`:

1. files: every formulas file, optimization, catalog, benchmark table and scenario is loaded and validated
   against its schema (engine.tree, engine.schema), one by one, so a broken file is reported beside the
   problems of the others and never as a traceback; catalog values outside the plausible range their schema
   declares, or inconsistent within their entry, are errors too (engine.plausible);
2. methodologies: each formulas file that loaded is parsed into its graph (undefined names, cycles), each
   optimization is applied to the methodologies it covers, and every variant is checked: its declared units
   are known, its formulas are dimensionally right and not off by a factor (engine.units.check_units), and
   each binding's `scale` converts the catalog field's declared unit into the input's (`binding_problems`).
   Inputs and constants no formula reads, and catalog fields with a unit that no binding reads (unless their
   schema marks them `"informational": true`), are warnings;
3. scenarios, when the catalogs and formulas load (else every run would repeat their problems): each is run
   in-process, its `expect:` entries evaluated (engine.expect) and its results compared with its golden file
   (engine.golden), or the golden written with `update_golden`.

A finding is an error (exit 1), a warning (reported, exit 0) or a note (shown with --verbose); each carries a
Location from the YAML loader. `render` writes a report as text (the project's one-line format), JSON,
Markdown or GitHub workflow commands. This module prints nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace

from . import expect, golden, plausible
from .api import run
from .errors import ImpactError, Location, Problem, display_path, suggest
from .methodology import Methodology, apply, parse_optimization
from .tree import Tree, Unbuilt, build_all
from .units import UnitProblem, check_units, parse_unit, registry

FORMATS = ("text", "json", "markdown", "github")
# the catalog each binding entity reads; `request` and `hardware` are the scenario's own numbers
ENTITY_CATALOG = {"model": "models", "precision": "precisions", "accelerator": "accelerators", "server": "servers",
                  "region": "regions", "deployment": "deployments", "calibration": "calibrations",
                  "engine": "engines"}  # fmt: skip
SCENARIO_UNITS = {
    ("request", "input_tokens"): "token",
    ("request", "output_tokens"): "token",
    ("request", "cached_input_tokens"): "token",
    ("request", "reasoning_tokens"): "token",
    ("hardware", "gpus"): "accelerator",
    ("serving", "concurrency"): "request",
    ("serving", "request_rate"): "request/s",
}
ENGINE_READS = {("deployments", "gpus")}  # fields the scenario resolver reads itself (a deployment's GPU count)


@dataclass(frozen=True)
class Finding:
    level: str  # error | warning | note
    check: str  # schema, graph, units, binding, unused, scenario, expect, golden
    problem: Problem


@dataclass
class Report:
    root: str
    findings: list[Finding] = field(default_factory=list)
    counted: dict[str, int] = field(default_factory=dict)  # file, methodology, scenario, expectation, golden
    written: list[str] = field(default_factory=list)  # golden files written
    _seen: set = field(default_factory=set, repr=False)

    def add(self, level: str, check: str, problems) -> None:
        for problem in problems:
            if (level, problem) not in self._seen:  # the same problem found twice (a base and its variant) once
                self.findings.append(Finding(level, check, problem))
                self._seen.add((level, problem))

    def count(self, what: str, n: int = 1) -> None:
        self.counted[what] = self.counted.get(what, 0) + n

    def of(self, level: str) -> list[Finding]:
        return [f for f in self.findings if f.level == level]

    @property
    def ok(self) -> bool:
        return not self.of("error")


def check(tree: Tree, update_golden: bool = False) -> Report:
    """Check every file of `tree`; with `update_golden`, write each scenario's golden instead of comparing."""
    counted = ("file", "methodology", "optimized variant", "scenario")
    report = Report(display_path(tree.root), counted=dict.fromkeys(counted, 0))
    docs, failed = _files(tree, report)
    catalogs_ok = _catalogs(tree, report)
    methods = _methodologies(tree, docs, report)
    variants = _variants(tree, methods, docs, report)
    files = {tree.relative(path): doc for kind in ("formulas", "optimization") for path, doc in docs[kind]}
    for found in variants.values():
        _check_methodology(tree, found, files, report)
    if catalogs_ok:
        report.add("warning", "unused", unused_fields(tree, [v for vs in variants.values() for v in vs]))
    graph_ok = not [f for f in report.of("error") if f.check == "graph"]
    if catalogs_ok and graph_ok and not failed & {"formulas", "optimization"}:
        _scenarios(tree, docs["scenario"], report, update_golden)
    else:
        where = Location(None, path=display_path(tree.root / "scenarios") + "/*.yaml")
        message = "scenarios not evaluated: the catalogs or formulas above do not load"
        report.add("warning", "scenario", [Problem(where, message, "a tree that loads, so that each scenario runs")])
    for level, problem in golden.orphans(tree.root):
        report.add(level, "golden", [problem])
    return report


# ---- pass 1: files


FOLDERS = (("formulas", "formulas"), ("formulas/optimizations", "optimization"),
           ("catalogs/benchmarks", "benchmarks"), ("scenarios", "scenario"))  # fmt: skip


def _files(tree: Tree, report: Report) -> tuple[dict[str, list], set[str]]:
    """(path, doc) of every file of each kind that loads and matches its schema (catalogs: see _catalogs), and
    the kinds of which some file does not."""
    docs, failed = {kind: [] for _, kind in FOLDERS}, set()
    for folder, kind in FOLDERS:
        for path in sorted((tree.root / folder).glob("*.yaml")):
            report.count("file")
            try:
                doc = tree.table(path, kind) if kind == "benchmarks" else tree.load(path, kind)
            except ImpactError as exc:
                report.add("error", "schema", exc.problems)
                failed.add(kind)
                continue
            docs[kind].append((path, doc))
    return docs, failed


def _catalogs(tree: Tree, report: Report) -> bool:
    """The catalogs, through the tree's own loader, which collects the problems of every file."""
    report.count("file", len(list((tree.root / "catalogs").glob("*.yaml"))))
    try:
        catalogs = tree.catalogs()
    except ImpactError as exc:
        report.add("error", "schema", exc.problems)
        return False
    report.add("error", "schema", uncertain_problems(catalogs))
    report.add("error", "plausible", plausible.catalog_problems(tree.schemas, catalogs))
    return True


def uncertain_problems(catalogs) -> list[Problem]:
    """The parameters of every range and distribution in the catalogs (low <= high, sigma >= 0, ...), which a
    run checks only when it reads the field."""
    from .uncertainty import is_uncertain, parse

    problems = []
    for table in catalogs.values():
        for entry in table.values():
            for name, value in entry.data.items():
                if is_uncertain(value):
                    try:
                        parse(value, lambda k, e=entry, n=name: e.loc(n, *([k] if k else [])))
                    except ImpactError as exc:
                        problems += exc.problems
    return problems


# ---- pass 2: methodologies


def _methodologies(tree: Tree, docs, report: Report) -> dict[str, Methodology]:
    unbuilt = {}
    for path, doc in docs["formulas"]:
        item = Unbuilt(doc, tree.relative(path))
        if item.name in unbuilt:
            message = f"methodology '{item.name}' is already defined in {unbuilt[item.name].file}"
            report.add("error", "graph", [Problem(doc.loc(("methodology",)), message, "one file per methodology")])
            continue
        unbuilt[item.name] = item
    methods, problems = build_all(unbuilt)
    if problems:
        report.add("error", "graph", problems)
    return methods


def _variants(tree: Tree, methods, docs, report: Report) -> dict[str, list[Methodology]]:
    """Each methodology and its variants: with each optimization that covers it applied."""
    variants = {name: [method] for name, method in methods.items()}
    complete = len(methods) == len(docs["formulas"])
    for path, doc in docs["optimization"]:
        opt = parse_optimization(doc, tree.relative(path))
        for base in opt.applies_to:
            if base not in methods:
                if complete:
                    message = f"optimization '{opt.name}' applies to '{base}', which is not a methodology of this tree"
                    report.add("error", "graph", [Problem(doc.loc(("applies_to", base)), message,
                                                          "one of " + ", ".join(sorted(methods)),
                                                          suggest(base, methods))])  # fmt: skip
                continue
            try:
                variants[base].append(apply(methods[base], opt))
            except ImpactError as exc:
                report.add("error", "graph", exc.problems)
    return variants


def _check_methodology(tree: Tree, variants: list[Methodology], files: dict, report: Report) -> None:
    """Units and binding scales of a methodology and its optimized variants, and the names none of them reads."""
    report.count("methodology")
    report.count("optimized variant", len(variants) - 1)
    for method in variants:
        declared = unit_problems(method)
        report.add("error", "units", declared)
        if not declared:
            report.add("error", "units", check_units(method))
        report.add("error", "binding", binding_problems(tree.schemas, method, files))
    report.add("warning", "unused", unread_names(variants))


def unit_problems(method: Methodology) -> list[Problem]:
    """Declared units that pint cannot read (check_units needs them all)."""
    problems = []
    for what, table in (("input", method.inputs), ("constant", method.constants), ("formula", method.formulas)):
        for name, item in table.items():
            try:
                parse_unit(item.unit)
            except UnitProblem as exc:
                problems.append(Problem(item.location, f"{what} '{name}': {exc}",
                                        "a unit such as s, Wh, gCO2e/kWh or token ('' for a pure number)"))  # fmt: skip
    return problems


def binding_problems(schemas, method: Methodology, docs: dict | None = None) -> list[Problem]:
    """Every binding of `method` reads a field its catalog declares, with a unit, and the input's `scale`
    converts that unit into the input's: `from: accelerator.memory_bandwidth_tb_s` with `scale: 1e12` must
    mean TB/s -> B/s exactly. `docs` (file -> Doc) locate a problem at the input's `from:` or `scale:`."""
    problems = []
    for item in method.inputs.values():
        for binding in item.bindings:
            found = _field_unit(schemas, binding.entity, binding.field)
            where = _at(method, item, docs, "from")
            if isinstance(found, str) and binding.key_entity:
                key = _field_unit(schemas, binding.key_entity, binding.key_field, need_unit=False)
                found = key if isinstance(key, tuple) else found
            if isinstance(found, tuple):
                message, expected, hint = found
                problems.append(Problem(where, f"input '{item.name}' reads {binding}: {message}", expected, hint))
                continue
            problem = _scale_problem(item, str(binding), found, _at(method, item, docs, "scale"))
            if problem:
                problems.append(problem)
    return problems


def _field_unit(schemas, entity: str, name: str, need_unit: bool = True):
    """The declared unit of `entity.name`, or (message, expected, hint) saying why there is none. A key field
    (`compute` in `dense_tflops[precision.compute]`) selects a value and needs no unit."""
    if entity not in ENTITY_CATALOG:
        fields = sorted(f for e, f in SCENARIO_UNITS if e == entity)
        if (entity, name) in SCENARIO_UNITS:
            return SCENARIO_UNITS[(entity, name)]
        return f"the scenario's {entity} has no field '{name}'", "one of " + ", ".join(fields), suggest(name, fields)
    catalog = ENTITY_CATALOG[entity]
    props = _fields(schemas, catalog)
    if name not in props:
        fields = sorted(props)
        return (f"the {catalog} catalog has no field '{name}'", f"a field of schemas/catalog-{catalog}.v1.json",
                suggest(name, fields))  # fmt: skip
    if "unit" not in props[name] and need_unit:
        return (f"schemas/catalog-{catalog}.v1.json declares no unit for '{name}', so the scale cannot be checked",
                f'"unit" on the field in schemas/catalog-{catalog}.v1.json', None)  # fmt: skip
    return props[name].get("unit", "")


def _fields(schemas, catalog: str) -> dict:
    """The fields an entry of `catalog` may have, as its schema declares them (with `unit`, `informational`)."""
    return schemas.validator(f"catalog-{catalog}.v1").schema["$defs"]["entry"]["properties"]


def _scale_problem(item, binding: str, field_unit: str, where: Location) -> Problem | None:
    ureg = registry()
    try:
        source, target = parse_unit(field_unit), parse_unit(item.unit)
    except UnitProblem as exc:
        return Problem(where, f"input '{item.name}' reads {binding}: {exc}", "units pint knows")
    shown = [f"'{u}' ({_dims(ureg, u)})" if u else "a pure number" for u in (item.unit, field_unit)]
    head = f"input '{item.name}' in {shown[0]} reads {binding}, declared in {shown[1]}"
    try:
        factor = float(ureg.Quantity(1.0, source).to(target).magnitude)
    except Exception:  # pint's DimensionalityError: the two units measure different things
        return Problem(where, f"{head}: the dimensions differ",
                       f"an input unit of the field's dimension, or a field in '{item.unit}'")  # fmt: skip
    if abs(factor - item.scale) <= 1e-9 * abs(factor):
        return None
    message = f"{head}, with scale {item.scale:g}; converting '{field_unit}' to '{item.unit}' needs {factor:g}"
    return Problem(where, message, f"scale: {factor:g}")


def _dims(ureg, unit: str) -> str:
    return str(ureg.Quantity(1, parse_unit(unit)).dimensionality) or "dimensionless"


def _at(method: Methodology, item, docs: dict | None, key: str) -> Location:
    """The location of an input's `key` (from, scale) in its formulas or optimization file."""
    doc = (docs or {}).get(item.file)
    if doc is None:
        return item.location
    prefix = ("inputs", item.name)
    if doc.data.get("kind") == "optimization":
        prefix = ("applies_to", method.name, "inputs", item.name)
    spec = doc.data
    for part in prefix:
        spec = (spec.get(part) or {}) if isinstance(spec, dict) else {}
    return doc.loc(prefix + (key if key in spec else "from",))


def unread_names(variants: list[Methodology]) -> list[Problem]:
    """Inputs and constants of a methodology that no formula of it, or of its optimized variants, reads."""
    base = variants[0]
    read = {name for m in variants for f in m.formulas.values() for name in f.reads} | set(base.headline.values())
    problems = []
    for what, table in (("input", base.inputs), ("constant", base.constants)):
        for name, item in table.items():
            if name not in read:
                problems.append(Problem(item.location, f"{what} '{name}' of {base.name} is read by no formula",
                                        "a formula that reads it, or remove it"))  # fmt: skip
    return problems


def unused_fields(tree: Tree, methods: list[Methodology]) -> list[Problem]:
    """Catalog fields with a declared unit that no binding reads, at their first use in a catalog file."""
    read = set(ENGINE_READS)
    for method in methods:
        for item in method.inputs.values():
            for b in item.bindings:
                read |= {(ENTITY_CATALOG.get(b.entity), b.field), (ENTITY_CATALOG.get(b.key_entity), b.key_field)}
    problems = []
    for catalog in ENTITY_CATALOG.values():
        for name, spec in _fields(tree.schemas, catalog).items():
            if "unit" not in spec or spec.get("informational") or (catalog, name) in read:
                continue
            entry = next((e for e in tree.catalog(catalog).values() if name in e.data), None)
            if entry is not None:
                problems.append(Problem(entry.loc(name), f"{catalog} field '{name}' is read by no binding of any "
                                        "methodology", "a binding that reads it (from: ...), or \"informational\": "
                                        f"true on the field in schemas/catalog-{catalog}.v1.json"))  # fmt: skip
    return problems


# ---- pass 3: scenarios


def _scenarios(tree: Tree, scenarios, report: Report, update_golden: bool) -> None:
    for path, doc in scenarios:
        report.count("scenario")
        try:
            runs = run(path, tree=tree)
        except ImpactError as exc:
            report.add("error", "scenario", exc.problems)
            continue
        for level, problem in expect.check(doc, runs):
            report.add(level, "expect", [problem])
        report.count("expectation", len(doc.data.get("expect") or []))
        target = golden.path_for(tree.root, path)
        if update_golden:
            if golden.write(target, path.name, runs, tree.schemas):
                report.written.append(display_path(target))
            continue
        report.count("golden", int(target.exists()))
        for level, problem in golden.compare(target, doc, runs, tree.schemas):
            report.add(level, "golden", [problem])


# ---- rendering


def render(report: Report, fmt: str = "text", verbose: bool = False) -> str:
    """The report as text, json, markdown or github (workflow commands); notes only when `verbose`."""
    shown = [f for f in report.findings if verbose or f.level != "note"]
    return {"text": _text, "json": _json, "markdown": _markdown, "github": _github}[fmt](report, shown)


def summary(report: Report) -> str:
    """`impact check passed: 0 errors, 1 warning (24 files, ...)`, and the golden files written."""
    return f"impact check {'passed' if report.ok else 'failed'}: {_details(report)}"


def _details(report: Report) -> str:
    errors, warnings = len(report.of("error")), len(report.of("warning"))
    counted = ", ".join(_plural(n, what) for what, n in report.counted.items())
    text = f"{_plural(errors, 'error')}, {_plural(warnings, 'warning')} ({counted})"
    if report.written:
        text += f"; wrote {_plural(len(report.written), 'golden file')}: " + ", ".join(report.written)
    return text


def _plural(n: int, word: str) -> str:
    if n == 1:
        return f"{n} {word}"
    return f"{n} {word[:-1]}ies" if word.endswith("y") else f"{n} {word}s"


def _line(finding: Finding) -> str:
    problem = finding.problem
    if finding.level != "error":
        problem = replace(problem, message=f"{finding.level}: {problem.message}")
    return problem.render()


def _text(report: Report, shown) -> str:
    return "".join(_line(f) + "\n" for f in shown) + summary(report) + "\n"


def _json(report: Report, shown) -> str:
    findings = [{"level": f.level, "check": f.check, "file": f.problem.location.file,
                 "line": f.problem.location.line, "column": f.problem.location.column,
                 "path": f.problem.location.path, "message": f.problem.message,
                 "expected": f.problem.expected, "hint": f.problem.hint} for f in shown]  # fmt: skip
    out = {"ok": report.ok, "root": report.root, "errors": len(report.of("error")),
           "warnings": len(report.of("warning")), "checked": report.counted, "written": report.written,
           "findings": findings}  # fmt: skip
    return json.dumps(out, indent=2) + "\n"


def _markdown(report: Report, shown) -> str:
    lines = [f"### impact check: {'passed' if report.ok else 'failed'}", "", _details(report), ""]
    if shown:
        lines += ["| level | where | check | problem |", "|---|---|---|---|"]
        for f in shown:
            where = f.problem.location.render().rsplit(": ", 1)[0] if f.problem.location.file else ""
            what = Problem(Location(None, path=f.problem.location.path), *_rest(f.problem)).render()
            cell = what.replace("|", "\\|").replace("\n", "<br>")
            lines.append(f"| {f.level} | `{where}` | {f.check} | {cell} |")
    return "\n".join(lines) + "\n"


def _rest(problem: Problem) -> tuple:
    return problem.message, problem.expected, problem.hint


def _github(report: Report, shown) -> str:
    """GitHub workflow commands: `::error file=F,line=L,col=C,title=T::message` (annotations on the diff)."""
    lines = []
    for f in shown:
        loc, command = f.problem.location, {"error": "error", "warning": "warning", "note": "notice"}[f.level]
        props = [f"file={_escape(loc.file, True)}"] if loc.file else []
        if loc.file and loc.line > 0:
            props += [f"line={loc.line}", f"col={loc.column}"]
        props.append(f"title={_escape(f'impact check ({f.check})', True)}")
        message = Problem(Location(None, path=loc.path), *_rest(f.problem)).render()
        lines.append(f"::{command} {','.join(props)}::{_escape(message)}")
    return "".join(line + "\n" for line in lines) + summary(report) + "\n"


def _escape(text: str, property_value: bool = False) -> str:
    text = str(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return text.replace(":", "%3A").replace(",", "%2C") if property_value else text
