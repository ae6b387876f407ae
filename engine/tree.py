"""A methodology tree: the folder that holds `formulas/`, `catalogs/` and `schemas/`.

The shipped tree is the installed package itself. Which tree a command uses is one rule (`locate`): `--root
DIR`, then the `IMPACT_ROOT` environment variable, then the current directory when it holds `formulas/` and
`catalogs/` (a user working in their own tree), then the shipped one. A tree missing `schemas/` uses the
shipped schemas. Files are read on first use,
validated against their schema, and kept: catalogs as entries that remember their file and line, formula
files as parsed `Methodology` objects. Nothing is read at import time.

A file of the tree may be a symbolic link only to a file inside the tree: a link that leads outside it (to
another user's file, or `/dev/zero`) is refused with the file's name, so that what a tree computes with is what
the tree holds and what its provenance hashes. Only regular files are read (engine.loader.read_regular).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .errors import ImpactError, Location, Problem, display_path, shorten, suggest
from .loader import Doc
from .methodology import Methodology, Optimization, parse, parse_optimization
from .schema import Schemas

SHIPPED_ROOT = Path(__file__).resolve().parent.parent
ROOT_ENV = "IMPACT_ROOT"


def locate(root: str | os.PathLike | None = None) -> tuple[Path, str]:
    """The methodology tree to use and how it was found: `root` (--root), then $IMPACT_ROOT, then the current
    directory when it holds formulas/ and catalogs/, then the shipped tree. `how` is "--root", "$IMPACT_ROOT",
    "the current directory" or "shipped"; the path is not checked here (Tree does that)."""
    if root:
        return Path(root).expanduser(), "--root"
    if os.environ.get(ROOT_ENV):
        return Path(os.environ[ROOT_ENV]).expanduser(), f"${ROOT_ENV}"
    try:
        cwd = Path.cwd()
    except OSError:  # the current directory was removed
        cwd = None
    if cwd is not None and (cwd / "formulas").is_dir() and (cwd / "catalogs").is_dir():
        return cwd, "the current directory"
    return SHIPPED_ROOT, "shipped"


@dataclass
class Unbuilt:
    """A formulas file read and validated, not yet built (it may extend another)."""

    doc: Doc
    file: str

    @property
    def name(self) -> str:
        return self.doc.data["methodology"]


@dataclass
class Entry:
    """One catalog entry: its data, and where it is written."""

    catalog: str
    id: str
    data: dict
    doc: Doc
    file: str  # relative to the tree root (or the scenario file, for inline entries), for provenance
    prefix: tuple = ()  # path of the entry inside its document

    def loc(self, *parts) -> Location:
        return self.doc.loc(self.prefix + parts)

    def cite(self, field: str) -> str:
        """The source of one field: its own `field_sources` entry, else the entry's `source`."""
        return (self.data.get("field_sources") or {}).get(field, self.data.get("source", "no source given"))


def _entry_problems(entry: Entry) -> list[Problem]:
    """What one schema cannot say about an entry: a model's routed experts per token are at most its experts."""
    data = entry.data
    if entry.catalog == "models" and "experts_per_token" in data:
        if "experts" not in data:
            return [Problem(entry.loc("experts_per_token"), "experts_per_token is given without experts",
                            "experts (routed experts per MoE layer) beside experts_per_token")]  # fmt: skip
        if data["experts_per_token"] > data["experts"]:
            return [Problem(entry.loc("experts_per_token"), f"experts_per_token {data['experts_per_token']} is "
                            f"greater than experts {data['experts']}", "experts_per_token <= experts")]  # fmt: skip
    return []


class Tree:
    """The formulas, catalogs and schemas of one methodology root."""

    def __init__(self, root: str | os.PathLike | None = None):
        chosen, self.found = locate(root)
        self.root = chosen.resolve()
        if not self.root.is_dir():
            given = f"--root {root}" if root else f"{ROOT_ENV}={os.environ.get(ROOT_ENV)}"
            raise ImpactError(Problem(Location(None, path=given), f"{display_path(self.root)} is not a directory",
                                      "a folder holding formulas/ and catalogs/"))  # fmt: skip
        for part in ("formulas", "catalogs"):
            if not (self.root / part).is_dir():
                raise ImpactError(
                    Problem(
                        Location(display_path(self.root), 0),
                        f"has no {part}/ folder",
                        "a methodology tree holding formulas/ and catalogs/",
                    )
                )
        schemas = self.root / "schemas"
        self.schemas = Schemas(schemas if schemas.is_dir() else SHIPPED_ROOT / "schemas")
        self._catalogs: dict[str, dict[str, Entry]] | None = None
        self._methodologies: dict[str, Methodology] | None = None
        self._optimizations: dict[str, Optimization] | None = None
        self._tables: dict[Path, Doc] = {}
        self._hashes: dict[str, str] = {}

    def relative(self, path: Path) -> str:
        """A file's path relative to the root; a file reached through the tree that lies outside it is refused."""
        resolved = Path(path).resolve()
        if not resolved.is_relative_to(self.root):
            self.confined(path)
            return resolved.as_posix()  # a file the user named outside the tree (calibrate --data)
        return resolved.relative_to(self.root).as_posix()

    def confined(self, path: Path) -> Path:
        """`path`, unless it is under the root but is a link that resolves outside the tree (see the docstring)."""
        lexical = Path(os.path.abspath(path))
        if lexical.is_relative_to(self.root):
            resolved = lexical.resolve()
            if not resolved.is_relative_to(self.root):
                cwd = Path.cwd()
                shown = lexical.relative_to(cwd).as_posix() if lexical.is_relative_to(cwd) else str(lexical)
                where = Location(shown, 0)  # the link as the tree names it, not its target
                message = f"is a symbolic link to {resolved}, outside the tree {self.root}"
                raise ImpactError(Problem(where, message, "a file inside the tree (copy it in)"))
        return path

    def load(self, path: Path, kind: str) -> Doc:
        """A file of the tree, parsed and validated (or taken from the cache of valid files: engine.cache)."""
        from .cache import load_validated

        return load_validated(self.confined(path), kind, self.schemas)

    def file_hash(self, relative: str) -> str:
        """sha256 of a file of the tree, by its path relative to the root."""
        if relative not in self._hashes:
            import hashlib

            from .loader import read_regular

            self._hashes[relative] = hashlib.sha256(read_regular(self.root / relative, relative)).hexdigest()
        return self._hashes[relative]

    def provenance(self, method: Methodology, optimizations, tables: list[str] | None = None) -> dict:
        """What a result was computed from: the methodology's version, and a content hash of every file of the
        tree it used (its formulas file, the optimizations applied, the catalogs and so the calibration, and the
        data tables read, such as the API prices behind an estimated model size: `tables`, the ones a scenario
        read, else every table this tree has read so far)."""
        import hashlib

        files = [*method.bases, method.file, *(self.optimizations()[name].file for name in optimizations)]
        files += sorted({entry.file for table in self.catalogs().values() for entry in table.values()})
        read = sorted(self.relative(path) for path in self._tables) if tables is None else sorted(tables)
        files += read  # e.g. the prices behind an estimated size
        hashes = {name: self.file_hash(name) for name in files}
        combined = hashlib.sha256("".join(f"{n}:{h}\n" for n, h in hashes.items()).encode()).hexdigest()
        return {"methodology": method.name, "version": method.version, "hash": f"sha256:{combined}",
                "files": {name: f"sha256:{digest}" for name, digest in hashes.items()}}  # fmt: skip

    def table(self, path: Path, kind: str = "benchmarks") -> Doc:
        """A data table (catalogs/benchmarks/), read and validated once per tree."""
        path = Path(self.confined(path)).resolve()
        if path not in self._tables:
            self._tables[path] = self.load(path, kind)
        return self._tables[path]

    # ---- catalogs
    def catalogs(self) -> dict[str, dict[str, Entry]]:
        if self._catalogs is None:
            catalogs: dict[str, dict[str, Entry]] = {}
            problems = []
            for path in sorted((self.root / "catalogs").glob("*.yaml")):
                try:
                    doc = self.load(path, "catalog")
                except ImpactError as exc:
                    problems += exc.problems
                    continue
                relative = self.relative(path)
                name = doc.data["catalog"]
                table = catalogs.setdefault(name, {})
                for entry_id, data in doc.data["entries"].items():
                    if entry_id in table:
                        other = table[entry_id]
                        problems.append(
                            Problem(
                                doc.loc(("entries", entry_id)),
                                f"{name} id '{entry_id}' is already defined in "
                                f"{display_path(other.doc.path)}:{other.loc().line}",
                                "ids unique within a catalog",
                            )
                        )
                        continue
                    table[entry_id] = Entry(name, entry_id, data, doc, relative, ("entries", entry_id))
                    problems += _entry_problems(table[entry_id])
            if problems:
                raise ImpactError(problems)
            self._catalogs = catalogs
        return self._catalogs

    def catalog(self, name: str) -> dict[str, Entry]:
        return self.catalogs().get(name, {})

    def entry(self, catalog: str, entry_id: str, where: Location) -> Entry:
        """Look up an id, or fail at `where` with the closest ids as a hint."""
        table = self.catalog(catalog)
        if entry_id in table:
            return table[entry_id]
        noun = catalog[:-1] if catalog.endswith("s") else catalog
        raise ImpactError(
            Problem(
                where,
                f"unknown {noun} '{shorten(entry_id)}'",
                f"an id from the {catalog} catalog (impact catalog list {catalog})",
                suggest(entry_id, table),
            )
        )

    # ---- methodologies (formulas/*.yaml) and optimizations (formulas/optimizations/*.yaml)
    def methodologies(self) -> dict[str, Methodology]:
        if self._methodologies is None:
            docs = self._named_files("formulas", "formulas", "methodology", Unbuilt)
            built, problems = build_all(docs)
            if problems:
                raise ImpactError(problems)
            self._methodologies = built
        return self._methodologies

    def optimizations(self) -> dict[str, Optimization]:
        if self._optimizations is None:
            self._optimizations = self._named_files("formulas/optimizations", "optimization", "optimization",
                                                    parse_optimization)  # fmt: skip
        return self._optimizations

    def methodology(self, name: str, where: Location) -> Methodology:
        return self._named(self.methodologies(), "methodology", name, where)

    def optimization(self, name: str, where: Location) -> Optimization:
        return self._named(self.optimizations(), "optimization", name, where)

    def _named_files(self, folder: str, kind: str, key: str, build) -> dict:
        """Every YAML file of `folder`, validated as `kind` and built; names (at `key`) must be unique."""
        found, problems = {}, []
        for path in sorted((self.root / folder).glob("*.yaml")):
            try:
                doc = self.load(path, kind)
                item = build(doc, self.relative(path))
            except ImpactError as exc:
                problems += exc.problems
                continue
            if item.name in found:
                message = f"{key} '{item.name}' is already defined in {found[item.name].file}"
                problems.append(Problem(doc.loc((key,)), message, f"one file per {key} name"))
            found[item.name] = item
        if problems:
            raise ImpactError(problems)
        return found

    @staticmethod
    def _named(table: dict, what: str, name: str, where: Location):
        if name in table:
            return table[name]
        known = "one of " + (", ".join(sorted(table)) or "(none installed)")
        raise ImpactError(Problem(where, f"unknown {what} '{shorten(name)}'", known, suggest(name, table)))


def build_all(docs: dict) -> tuple[dict[str, Methodology], list[Problem]]:
    """Every methodology of `docs` (name -> Unbuilt), each after the one it extends, and the problems found."""
    built: dict[str, Methodology] = {}
    problems = []
    for name in docs:
        try:
            _build(name, docs, built, [])
        except ImpactError as exc:
            problems += exc.problems
    return {name: built[name] for name in docs if name in built}, problems


def _build(name: str, docs: dict, built: dict, chain: list) -> Methodology:
    """Methodology `name`, after the one it extends (a cycle of extends is an error naming the chain)."""
    if name in built:
        return built[name]
    unbuilt = docs[name]
    base_name = unbuilt.doc.data.get("extends")
    base = None
    if base_name is not None:
        where = unbuilt.doc.loc(("extends",))
        if base_name in chain + [name]:
            raise ImpactError(Problem(where, "extends cycle: " + " -> ".join([*chain, name, base_name]),
                                      "a methodology that does not extend itself"))  # fmt: skip
        if base_name not in docs:
            raise ImpactError(Problem(where, f"unknown methodology '{base_name}'",
                                      "one of " + ", ".join(sorted(docs)), suggest(base_name, docs)))  # fmt: skip
        base = _build(base_name, docs, built, [*chain, name])
    built[name] = parse(unbuilt.doc, unbuilt.file, base)
    return built[name]
