"""`impact diff BASE [HEAD]`: every scenario's results under two methodology trees, and why they differ.

BASE and HEAD are each a directory holding a tree or a git revision. A revision is read from the git
repository that holds the working tree (`--root`, else HEAD when it is a directory, else the current
directory when it holds formulas/ and catalogs/, else the shipped tree), taking the subfolder at the same
place: `git archive REV:subfolder` unpacked into a temporary directory, removed afterwards. HEAD defaults
to the working tree itself, so `impact diff main` in a methodology repository compares the tree at `main`
with the files as they are now. A directory is tried before a revision of the same name.

Each tree's scenarios (`scenarios/*.yaml`) are evaluated with that tree and matched by file name. For
each result in both: old and new value, unit and relative change (new - old) / |old|; for a sweep's
arrays, the element that changed most. A unit that changed is converted when it can be (Wh to kWh is no
change); one that cannot, an array whose length changed and a scenario that fails under HEAD cannot be
measured and count as above any `--fail-above`. Results and scenarios found in one tree only are listed.
Why (engine/diff_why.py): every difference between the trees, and for each changed result the differences
it reads. Errors in a revision's files name them as `REV:path`. Rendering is in engine/diff_report.py.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import math
import os
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import diff_why
from .api import Result, Run, run
from .errors import ImpactError, Location, Problem, display_path, suggest
from .tree import ROOT_ENV, Tree
from .units import UnitProblem, convert

UNCHANGED = 1e-12  # a relative change at most this is rounding, not a change
EXPECTED = "a directory holding formulas/ and catalogs/, or a git revision such as main, HEAD~1 or a commit hash"


@dataclass
class Side:
    """One of the two trees: as the user named it, and where it lies on disk."""

    label: str
    kind: str  # "directory" or "revision"
    root: Path
    tree: Tree | None = None
    shown_as: str = ""  # for a revision: how its files are named in messages, `REV:` plus the subfolder

    def to_dict(self) -> dict:
        return {"label": self.label, "kind": self.kind}


@dataclass
class ResultChange:
    scenario: str  # the scenario's file name
    methodology: str
    result: str
    old: float
    new: float
    unit: str
    old_unit: str
    change: float | None  # relative, (new - old) / |old|; inf from 0; None when it cannot be measured
    index: int = 0  # the element shown, for arrays
    size: int = 1
    status: str = "changed"  # changed, unit changed, length changed
    why: list[int] = field(default_factory=list)

    @property
    def label(self) -> str:
        element = f"[{self.index}]" if self.size > 1 else ""
        return f"{Path(self.scenario).stem} {self.methodology}.{self.result}{element}"

    def magnitude(self) -> float:
        return math.inf if self.change is None else abs(self.change)

    def rank(self) -> float:
        """magnitude() to 9 significant digits, for ordering only: changes equal but for float noise (+10% of
        E_facility through two methodologies) rank as ties, ordered by name, so the report's order does not
        depend on it (the --fail-above gate compares the exact magnitude)."""
        return float(f"{self.magnitude():.9g}")

    def to_dict(self) -> dict:
        finite = self.change is not None and math.isfinite(self.change)
        return {"scenario": self.scenario, "methodology": self.methodology, "result": self.result,
                "old": self.old, "new": self.new, "unit": self.unit, "old_unit": self.old_unit,
                "relative_change": self.change if finite else None, "status": self.status, "index": self.index,
                "size": self.size, "why": self.why}  # fmt: skip


@dataclass
class Diff:
    base: Side
    head: Side
    results: list[ResultChange]  # changed results, largest change first
    changes: list[diff_why.Change]  # differences between the trees, those that move results first
    compared: int = 0  # results found in both trees
    scenarios: int = 0  # scenarios evaluated in both trees
    added: list[str] = field(default_factory=list)  # "scenario.yaml" or "scenario.yaml methodology.result"
    removed: list[str] = field(default_factory=list)
    failed: list[tuple[str, str, str]] = field(default_factory=list)  # (scenario, "BASE"/"HEAD", message)

    def exceeding(self, percent: float) -> list:
        """Results that changed by more than `percent` (or cannot be measured), and scenarios failing in HEAD."""
        above = [r for r in self.results if r.magnitude() * 100 > percent]
        return above + [f for f in self.failed if f[1] == "HEAD"]

    def to_dict(self) -> dict:
        return {"base": self.base.to_dict(), "head": self.head.to_dict(), "scenarios": self.scenarios,
                "compared": self.compared, "changed": len(self.results),
                "results": [r.to_dict() for r in self.results], "changes": [c.to_dict() for c in self.changes],
                "added": self.added, "removed": self.removed,
                "failed": [{"scenario": s, "tree": t, "message": m} for s, t, m in self.failed]}  # fmt: skip


def diff(base: str, head: str | None = None, root: str | None = None) -> Diff:
    """Compare the trees BASE and HEAD (default: the working tree; see the module docstring)."""
    work = working_root(root, head)
    with contextlib.ExitStack() as stack:
        sides = [_side(base, "BASE", work, stack)]
        sides.append(_side(head, "HEAD", work, stack) if head else Side("working tree", "directory", work))
        try:
            for side in sides:
                side.tree = Tree(side.root)
            return _compare(*sides)
        except ImpactError as exc:
            raise relabel(exc, sides) from None


def working_root(root: str | None, head: str | None) -> Path:
    """The working tree: --root, else $IMPACT_ROOT, else HEAD when it is a directory, else the current
    directory when it holds a tree, else the shipped one (engine.tree.locate)."""
    if root is None and not os.environ.get(ROOT_ENV) and head is not None and Path(head).expanduser().is_dir():
        root = head
    return Tree(root).root


# ---- the two trees


def _side(spec: str, role: str, work: Path, stack: contextlib.ExitStack) -> Side:
    """A tree named on the command line: a directory as it is, a revision unpacked (see the docstring)."""
    path = Path(spec).expanduser()
    if path.is_dir():
        return Side(spec, "directory", path.resolve())
    where = Location(None, path=f"{role} {spec}")
    top = _git(["rev-parse", "--show-toplevel"], work)
    if top is None or top.returncode != 0:
        message = f"'{spec}' is not a directory, and the working tree {display_path(work)} is in no git repository"
        hint = "run it in your methodology repository, or name the working tree with --root"
        raise ImpactError(Problem(where, message, EXPECTED, hint))
    top_dir = Path(top.stdout.decode().strip())
    commit = _git(["rev-parse", "--verify", "--quiet", f"{spec}^{{commit}}"], top_dir)
    if commit.returncode != 0:
        refs = _git(["for-each-ref", "--format=%(refname:short)"], top_dir).stdout.decode().split()
        message = f"'{spec}' is neither a directory nor a revision of the git repository at {top_dir}"
        raise ImpactError(Problem(where, message, EXPECTED, suggest(spec, refs)))
    sub = work.relative_to(top_dir.resolve()).as_posix()
    folder = _unpack(commit.stdout.decode().strip(), sub, top_dir, where, stack)
    return Side(spec, "revision", folder, shown_as=f"{spec}:" + ("" if sub == "." else f"{sub}/"))


def _unpack(sha: str, sub: str, top: Path, where: Location, stack: contextlib.ExitStack) -> Path:
    """The folder `sub` of commit `sha`, unpacked into a temporary directory removed when `stack` closes."""
    archive = _git(["archive", "--format=tar", sha if sub == "." else f"{sha}:{sub}"], top)
    if archive.returncode != 0:
        raise ImpactError(Problem(where, f"the revision has no folder {sub}", "a revision holding the tree"))
    folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="impact-diff-"))).resolve()
    try:
        with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
            tar.extractall(folder, **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))
    except tarfile.TarError as exc:  # e.g. a link pointing out of the tree
        raise ImpactError(Problem(where, f"the revision cannot be unpacked ({exc})", "plain files")) from None
    return folder


def _git(args: list[str], cwd: Path) -> subprocess.CompletedProcess | None:
    try:
        return subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=False)
    except (FileNotFoundError, NotADirectoryError):  # no git installed
        return None


def relabel(exc: ImpactError, sides: list[Side]) -> ImpactError:
    """The same problems, with a revision's temporary folder written as `REV:path/` (git's own notation)."""
    swaps = [(f"{s.root}/", s.shown_as) for s in sides if s.kind == "revision"]

    def fix(text):
        if text is None:
            return None
        for folder, label in swaps:
            text = text.replace(folder, label)
        return text

    problems = [dataclasses.replace(p, location=dataclasses.replace(p.location, file=fix(p.location.file)),
                                    message=fix(p.message), expected=fix(p.expected), hint=fix(p.hint))
                for p in exc.problems]  # fmt: skip
    return ImpactError(problems)


# ---- comparing


def _compare(base: Side, head: Side) -> Diff:
    changes = diff_why.tree_changes(base.tree, head.tree)  # loads every file: a bad one fails here
    old, new = _evaluate(base.tree), _evaluate(head.tree)
    out = Diff(base, head, [], changes)
    out.added = [name for name in new if name not in old]
    out.removed = [name for name in old if name not in new]
    for name in (n for n in old if n in new):
        failures = [(name, role, _failure(r, [base, head])) for role, r in (("BASE", old[name]), ("HEAD", new[name]))
                    if isinstance(r, ImpactError)]  # fmt: skip
        if failures:
            out.failed += failures
            continue
        out.scenarios += 1
        changes += diff_why.scenario_changes(name, old[name], new[name])
        _compare_runs(out, name, old[name], new[name])
    out.results.sort(key=lambda r: (-r.rank(), r.label))
    _explain(out, old, new)
    return out


def _evaluate(tree: Tree) -> dict[str, list[Run] | ImpactError]:
    """Every scenario of the tree, evaluated with it: file name -> runs, or the error it stops with."""
    out = {}
    for path in sorted((tree.root / "scenarios").glob("*.yaml")):
        try:
            out[path.name] = run(path, tree=tree)
        except ImpactError as exc:
            out[path.name] = exc
    return out


def _failure(exc: ImpactError, sides: list[Side]) -> str:
    return relabel(exc, sides).render()


def _compare_runs(out: Diff, name: str, old: list[Run], new: list[Run]) -> None:
    was, now = {r.methodology: r for r in old}, {r.methodology: r for r in new}
    out.added += [f"{name} {m}.*" for m in now if m not in was]
    out.removed += [f"{name} {m}.*" for m in was if m not in now]
    for methodology in (m for m in now if m in was):
        before, after = was[methodology].results, now[methodology].results
        out.added += [f"{name} {methodology}.{r}" for r in after if r not in before]
        out.removed += [f"{name} {methodology}.{r}" for r in before if r not in after]
        for result in (r for r in after if r in before):
            out.compared += 1
            found = compare_result(name, methodology, before[result], after[result])
            if found is not None:
                out.results.append(found)


def compare_result(scenario: str, methodology: str, old: Result, new: Result) -> ResultChange | None:
    """How one result changed, or None when it did not."""
    a, b = np.atleast_1d(np.asarray(old.value, float)), np.atleast_1d(np.asarray(new.value, float))
    found = ResultChange(scenario, methodology, new.name, float(a[0]), float(b[0]), new.unit, old.unit, None,
                         size=b.size)  # fmt: skip
    if a.shape != b.shape:
        found.status = "length changed"
        return found
    factor = _factor(old.unit, new.unit)
    if factor is None:
        found.status = "unit changed"
        return found
    relative = _relative(a * factor, b)
    index = int(np.argmax(np.abs(relative)))
    found.index, found.old, found.new, found.change = index, float(a[index]), float(b[index]), float(relative[index])
    if old.unit != new.unit:
        found.status = "unit changed"
        return found
    return found if abs(found.change) > UNCHANGED else None


def _relative(old: np.ndarray, new: np.ndarray) -> np.ndarray:
    """(new - old) / |old| elementwise: 0 where equal, inf where only old is 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = (new - old) / np.abs(old)
    return np.where(old == new, 0.0, np.where(old == 0, np.copysign(np.inf, new), relative))


def _factor(old: str, new: str) -> float | None:
    """What a value in unit `old` is multiplied by to be in unit `new`; None when they do not convert."""
    if old == new:
        return 1.0
    try:
        return convert(f"1 {old}".strip(), new)
    except UnitProblem:
        return None


def _explain(out: Diff, old: dict, new: dict) -> None:
    """Link each changed result to the differences it reads; number the differences, those that move the
    largest changes first."""
    for result in out.results:
        index: dict[tuple, list[tuple]] = {}
        for runs, side in ((old, out.base), (new, out.head)):
            chosen = next(r for r in runs[result.scenario] if r.methodology == result.methodology)
            for group, path in diff_why.reads(chosen, result.result, side.tree):
                index.setdefault(group, []).append(path)
        for change in out.changes:
            if diff_why.moves(change, index):
                change.moves.append(result)
    out.changes.sort(key=lambda c: (-max((r.rank() for r in c.moves), default=-1.0), c.what))
    for number, change in enumerate(out.changes, 1):
        change.id = number
        for result in change.moves:
            result.why.append(number)
