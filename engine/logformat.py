"""Request-log formats as data: a `logformat` file (schemas/logformat.v1.json) names a reader (csv, jsonl,
parquet, otel) and maps a log's columns to scenario keys, so a new export format is configuration, not code.

    columns:
      prompt_tokens: {to: input_tokens}
      completion_tokens: {to: output_tokens, minus: reasoning_tokens_column}
      latency_ms: {to: t_hat, unit: ms}          # converted to the key's own unit (s)
    models: {gpt-oss-120b-fp8: gpt-oss-120b}     # names in the log -> catalog ids
    ignore: [api_key, metadata.*]                # passed over (a trailing * matches a prefix)

A column may be `per_request: true` (the row's total over its requests, divided by the column mapped to
`requests`, the row's weight: an export that aggregates many requests per row), `reader: records` with
`records: data.results` reads records nested in JSON documents (engine.logreaders), and `provider: openai`
makes a model name no catalog id resolves that provider's API model when the price table has it.

The shipped formats live in `catalogs/logformats/` (`otel.yaml`, `litellm.yaml`, `openai-usage.yaml`);
`--log-format NAME` picks one
from the tree's folder (a user's tree may add its own), `--log-format FILE.yaml` or `--map FILE.yaml` a file.
Columns the format neither maps nor ignores are checked as in any log (an unknown one is refused). A model
name is resolved, in order, through `models:`, as a catalog id, as a catalog model's `hf_id` (any case), and
as the part after the first or the last `/` (a provider prefix such as `hosted_vllm/`), each also without an
`-Instruct`, `-it` or `-chat` suffix (a tuned variant has its base model's size); a name none resolves stays
as written and its row is reported as an unknown model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import ImpactError, Location, Problem, suggest

READERS = ("csv", "jsonl", "parquet", "otel")  # names for --log-format; `records` is a format file's reader only
FOLDER = Path("catalogs") / "logformats"
SUFFIXES = {".csv": "csv", ".tsv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl",
            ".parquet": "parquet", ".pq": "parquet"}  # fmt: skip


@dataclass
class Mapped:
    source: str
    to: str
    unit: str | None = None
    minus: str | None = None
    per_request: bool = False  # the row's total over its requests: divided by the row's weight (`requests`)


@dataclass
class LogFormat:
    """A reader and the mapping of a log's columns to scenario keys (empty for a plain CSV or JSON Lines log)."""

    name: str
    reader: str | None = None
    columns: dict[str, Mapped] = field(default_factory=dict)  # log column -> what it becomes
    models: dict[str, str] = field(default_factory=dict)
    ignore: list[str] = field(default_factory=list)
    rows_with: str | None = None
    file: str | None = None
    records: str | None = None  # reader `records`: the dotted path of the lists of records in each document
    provider: str | None = None  # whose export: a model no catalog id resolves is its API model, if priced

    @property
    def maps(self) -> bool:
        return bool(self.columns or self.models or self.ignore or self.rows_with)

    @property
    def means(self) -> set[str]:
        """Scenario keys whose values are per-request means (per_request), so need not be whole numbers."""
        return {m.to for m in self.columns.values() if m.per_request}

    def ignored(self, column: str) -> bool:
        if column in self.columns:
            return False
        return any(column == p or (p.endswith("*") and column.startswith(p[:-1])) for p in self.ignore) or any(
            column == m.minus for m in self.columns.values()
        )

    def mapped_name(self, column: str) -> str:
        found = self.columns.get(column)
        return found.to if found else column

    def apply(self, frame, absent: dict, tree) -> tuple[object, dict]:
        """The frame with its columns renamed, converted and resolved; `absent` follows the renames."""
        import pandas as pd

        from .logcells import numbers_of

        if not self.maps:
            return frame, absent
        out, lacking = {}, {}
        for column in frame.columns:
            if self.ignored(column):
                continue
            spec = self.columns.get(column)
            series = frame[column]
            if spec is not None and (spec.unit or spec.minus or spec.per_request):
                series = self._numeric(frame, spec, tree, numbers_of, pd)
            name = spec.to if spec else column
            out[name] = series
            if column in absent:
                lacking[name] = absent[column]
        if "model" in out:
            out["model"] = self._models(out["model"], tree, pd)
        return pd.DataFrame(out, index=frame.index), lacking

    def _numeric(self, frame, spec: Mapped, tree, numbers_of, pd):
        """A converted or subtracted column, as floats; a cell that is not a number stays as written."""
        series = frame[spec.source]
        values, bad = numbers_of(series, spec.unit or "")
        if spec.unit:
            values = values * _factor(spec, tree)
        if spec.minus and spec.minus in frame:
            other, _ = numbers_of(frame[spec.minus], "")
            values = values - np.nan_to_num(other, nan=0.0)
        if spec.per_request and self.weight_column in frame:
            # a row that is N requests: each has the mean; where the weight is not > 0 the row is bad (its own
            # column says so) and the value stays as given
            weights, _ = numbers_of(frame[self.weight_column], "")
            with np.errstate(divide="ignore", invalid="ignore"):
                values = np.where(weights > 0, values / weights, values)
        result = pd.Series(values, index=frame.index, dtype=object)
        result[bad] = series[bad]
        return result

    @property
    def weight_column(self) -> str | None:
        """The log's column mapped to `requests` (a row's weight)."""
        return next((m.source for m in self.columns.values() if m.to == "requests"), None)

    def _models(self, series, tree, pd):
        names = _catalog_names(tree)
        levels = {v: v for v in pd.unique(series.dropna())}
        for raw in levels:
            text = str(raw)
            levels[raw] = self.models.get(text) or _resolve_model(text, names) or self._api_model(text, tree) or raw
        return series.map(lambda v: levels.get(v, v) if v is not None and v == v else v)

    def _api_model(self, text: str, tree) -> str | None:
        """PROVIDER/NAME when the format names its provider and the price table has the model."""
        if not self.provider:
            return None
        from .estimate import is_priced

        name = text.strip()
        return f"{self.provider}/{name}" if is_priced(tree, self.provider, name) else None


def _factor(spec: Mapped, tree) -> float:
    from .numbers import NumberProblem, parse
    from .points import FIELDS

    unit = (
        ""
        if spec.to in FIELDS
        else next((m.unit_of(spec.to) for m in tree.methodologies().values() if spec.to in m.names()), "")
    )
    try:
        return parse(f"1 {spec.unit}", unit)
    except NumberProblem as exc:
        raise ImpactError(Problem(Location(None, path=f"logformat column {spec.source}"), str(exc),
                                  f"a unit convertible to {unit or 'a pure number'}")) from None  # fmt: skip


_NAMES: dict[int, dict[str, str]] = {}


def _catalog_names(tree) -> dict[str, str]:
    key = id(tree)
    if key not in _NAMES:
        names = {}
        for model_id, entry in tree.catalog("models").items():
            names[model_id.lower()] = model_id
            hf = entry.data.get("hf_id")
            if isinstance(hf, str):
                names.setdefault(hf.lower(), model_id)
        _NAMES[key] = names
    return _NAMES[key]


def _resolve_model(text: str, names: dict[str, str]) -> str | None:
    low = text.strip().lower()
    for name in (low, low.split("/", 1)[-1], low.rsplit("/", 1)[-1]):
        for candidate in (name, name.removesuffix("-instruct"), name.removesuffix("-it"), name.removesuffix("-chat")):
            if candidate in names:
                return names[candidate]
    return None


def choose(spec: str | None, mapping: str | None, tree, log_path) -> LogFormat:
    """The format of a log: `--log-format` (a reader, a format name, or a file) and `--map` (a file)."""
    plain = ("csv", "jsonl", "parquet")  # readers alone; `otel`, `records` are format files naming their reader
    if spec and mapping and spec not in plain:
        raise ImpactError(Problem(Location(None, path=f"--map {mapping}"), "--map and --log-format "
                                  f"{spec} both give a mapping", "one of them"))  # fmt: skip
    reader = spec if spec in plain else None
    if mapping:
        fmt = load(Path(mapping), tree, f"--map {mapping}")
    elif spec and spec not in plain:
        fmt = load(_named(spec, tree), tree, f"--log-format {spec}")
    else:
        fmt = LogFormat(reader or "plain")
    fmt.reader = reader or fmt.reader or _by_suffix(Path(log_path))
    return fmt


def _by_suffix(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in (".gz", ".zst"):
        suffixes = suffixes[:-1]
    return SUFFIXES.get(suffixes[-1] if suffixes else "", "csv")


def _named(spec: str, tree) -> Path:
    if spec.endswith((".yaml", ".yml")) or "/" in spec:
        return Path(spec)
    from .tree import SHIPPED_ROOT

    folders = [tree.root / FOLDER, SHIPPED_ROOT / FOLDER]
    for folder in folders:
        if (folder / f"{spec}.yaml").is_file():
            return folder / f"{spec}.yaml"
    known = sorted({*READERS, *(p.stem for f in folders if f.is_dir() for p in f.glob("*.yaml"))})
    raise ImpactError(Problem(Location(None, path=f"--log-format {spec}"), f"unknown log format '{spec}'",
                              "one of " + ", ".join(known) + ", or a mapping file FILE.yaml",
                              suggest(spec, known)))  # fmt: skip


def load(path: Path, tree, where: str) -> LogFormat:
    """A logformat file, validated; its `to:` keys are checked when the log's columns are (batch)."""
    if not path.is_file():
        raise ImpactError(Problem(Location(None, path=where), f"no such file: {path}", "a logformat YAML file"))
    doc = tree.load(path, "logformat")
    data = doc.data
    columns = {}
    targets: dict[str, str] = {}
    for source, spec in data["columns"].items():
        if spec["to"] in targets:
            raise ImpactError(Problem(doc.loc(("columns", source, "to")), f"'{source}' and '{targets[spec['to']]}' "
                                      f"both map to '{spec['to']}'", "each scenario key from one column"))  # fmt: skip
        targets[spec["to"]] = source
        columns[source] = Mapped(source, spec["to"], spec.get("unit"), spec.get("minus"), bool(spec.get("per_request")))
    means = [s for s, spec in data["columns"].items() if spec.get("per_request")]
    if means and "requests" not in targets:
        raise ImpactError(Problem(doc.loc(("columns", means[0], "per_request")), f"'{means[0]}' is a total over "
                                  "a row's requests, but no column maps to requests", "a column {to: requests}, "
                                  "the row's number of requests, to divide it by"))  # fmt: skip
    if (data.get("reader") == "records") != ("records" in data):
        where = doc.loc(("records",) if "records" in data else ("reader",) if "reader" in data else ())
        raise ImpactError(Problem(where, "reader: records and records: go together", "reader: records with "
                                  "records: PATH (such as data.results), or neither"))  # fmt: skip
    return LogFormat(data["name"], data.get("reader"), columns, dict(data.get("models") or {}),
                     list(data.get("ignore") or []), data.get("rows_with"), doc.file, data.get("records"),
                     data.get("provider"))  # fmt: skip
