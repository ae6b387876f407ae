"""The checks of `impact check` that a run cannot do without: units and bindings of the methodologies it uses.

Before `run`, `compare`, `explain`, `batch` (and a dataframe partition) evaluate anything, each methodology
variant they use (a methodology with its optimizations applied) is checked as `impact check` checks it: every
declared unit is known, every formula is dimensionally right and not off by a conversion factor
(engine.units.check_units: a formula declared in W that is really Wh stops the run), and every binding reads a
field its catalog's schema defines, with a `scale` that converts the field's unit into the input's
(engine.check.binding_problems: `from: region.pu` is an error naming the field and the close ones, not a
"missing data" warning at run time). The checks need pint, which takes a noticeable time to import, so the
verdict is cached (engine.cache.read_verdict): keyed by a hash of impact's version, the schemas and every
formulas and optimization file of the tree, it lists the variants that passed. Only passes are stored; a
verdict that does not read back is ignored and the checks run again, so a broken cache costs time, never a
skipped check of a changed file.
"""

from __future__ import annotations

import hashlib

from . import cache
from .errors import ImpactError


def verify(tree, methods) -> None:
    """Raise ImpactError with every unit and binding problem of `methods` (variants, optimizations applied)."""
    key = content_key(tree)
    verdict = cache.read_verdict(key) or {}
    done = {v for v in verdict.get("verified", []) if isinstance(v, str)}
    todo = [m for m in methods if label(m) not in done]
    if not todo:
        return
    problems = []
    for method in todo:
        problems += method_problems(tree, method)
    if problems:
        raise ImpactError(problems)
    cache.write_verdict(key, {"verified": sorted(done | {label(m) for m in todo})})


def label(method) -> str:
    """A variant's name: `scope3`, or `scope3+batching+speculative-decoding` with its optimizations."""
    return "+".join([method.name, *method.optimizations])


def content_key(tree) -> str:
    """A hash of what the checks read: impact's version, the schemas, every formulas and optimization file."""
    from .. import __version__

    digest = hashlib.sha256(f"verify\0{__version__}\0{tree.schemas.fingerprint()}\0".encode())
    for folder in ("formulas", "formulas/optimizations"):
        for path in sorted((tree.root / folder).glob("*.yaml")):
            relative = tree.relative(path)
            digest.update(f"{relative}\0{tree.file_hash(relative)}\0".encode())
    return digest.hexdigest()


def method_problems(tree, method) -> list:
    """The unit and binding problems of one variant, located at the input's `from:` or `scale:` line."""
    from .check import binding_problems, unit_problems
    from .units import check_units

    declared = unit_problems(method)
    if declared:  # every other check reads the declared units: these first, without follow-on errors
        return declared
    problems = check_units(method)
    bindings = binding_problems(tree.schemas, method)
    if bindings:  # locate them precisely: load the files the variant came from (cached, so cheap)
        bindings = binding_problems(tree.schemas, method, _docs(tree, method))
    return problems + bindings


def _docs(tree, method) -> dict:
    docs = {method.file: tree.load(tree.root / method.file, "formulas")}
    for name in method.optimizations:
        opt = tree.optimizations()[name]
        docs[opt.file] = tree.load(tree.root / opt.file, "optimization")
    return docs
