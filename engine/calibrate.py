"""Fit the Scope3 duration correction, t_hat = beta_in * t_in + beta_out * t_out, on benchmark throughput.

The target. A throughput row gives the output tokens per second of a whole GPU group serving many requests at
once (in-flight or static batching at peak throughput). The energy formula charges a request
E = t_hat x P(group), so t_hat must be the time of the whole group that one request accounts for: with the
group producing `output_tokens_per_s` and a request producing `output_tokens`, that is
y = output_tokens / output_tokens_per_s seconds. t_in and t_out are the seed's theoretical single-request terms
for the same model, precision, GPU count and lengths, computed by the methodology's own formulas, so the betas
absorb what batching, kernels and overheads do to them (beta_out far below 1 means batching amortises the
weight reads).

The fit. Durations span five orders of magnitude, so the betas minimise the squared relative error,
sum(((beta_in t_in + beta_out t_out) - y) / y)^2, with non-negative betas (scipy's nnls). Reported: rows, R^2 of
log durations, mean absolute percentage error (MAPE), and held-out MAPE when whole models, and separately whole
accelerators, are left out of the fit in turn (leave-one-group-out). A fit per precision is reported beside the
pooled one and only preferred when its held-out error is lower.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .columns import bind_rows, evaluate_columns
from .errors import ImpactError, Location, Problem
from .loader import Doc
from .tree import Entry, Tree

SHIPPED_DATA = "catalogs/benchmarks/trtllm-throughput.yaml"
REQUIRED = ("model", "accelerator", "precision", "gpus", "input_tokens", "output_tokens", "output_tokens_per_s")
MIN_ROWS = 3
MAX_CONDITION = 1e10


@dataclass
class Fit:
    beta_in: float
    beta_out: float
    rows: int
    r2_log: float
    mape: float
    cv_mape_by_model: float | None  # None when there is a single group to leave out
    cv_mape_by_accelerator: float | None
    cv_mape_per_precision: float | None  # leave-one-model-out, separate betas per precision
    per_precision: dict[str, tuple[float, float]]
    data: str
    data_hash: str
    dropped: dict[str, str] = field(default_factory=dict)  # row label -> why it could not be used
    groups: dict[str, int] = field(default_factory=dict)  # distinct models, accelerators, precisions


def read_table(tree: Tree, path: Path) -> tuple[Doc, list[dict]]:
    """The rows of a benchmark table as dicts, every value checked; all problems reported together."""
    doc = tree.table(path)  # read and validated once per tree: validate and calibrate share it
    columns = doc.data["columns"]
    problems = [Problem(doc.loc(("columns",)), f"missing column '{name}'", "columns " + ", ".join(REQUIRED))
                for name in REQUIRED if name not in columns]  # fmt: skip
    if problems:
        raise ImpactError(problems)
    catalogs = {"model": "models", "accelerator": "accelerators", "precision": "precisions"}
    rows = []
    for i, values in enumerate(doc.data["rows"]):
        if len(values) != len(columns):
            problems.append(Problem(doc.loc(("rows", i)), f"the row has {len(values)} values for {len(columns)} "
                                    "columns", f"one value per column ({', '.join(columns)})"))  # fmt: skip
            continue
        row = dict(zip(columns, values, strict=True))
        for j, name in enumerate(columns):
            if name not in REQUIRED:
                continue
            value, where = row[name], doc.loc(("rows", i, j))
            if name in catalogs:
                try:
                    tree.entry(catalogs[name], str(value), where)
                except ImpactError as exc:
                    problems += exc.problems
            elif isinstance(value, bool) or not isinstance(value, (int, float)):
                problems.append(Problem(where, f"{name} is {value!r}, not a number", "a number"))
            elif name == "output_tokens_per_s" and not value > 0:
                problems.append(Problem(where, f"{name} is {value}, not positive", "a positive throughput"))
            elif name in ("gpus", "output_tokens") and (value < 1 or value != int(value)):
                problems.append(Problem(where, f"{name} is {value}", "a positive whole number"))
            elif name == "input_tokens" and (value < 0 or value != int(value)):
                problems.append(Problem(where, f"{name} is {value}", "a non-negative whole number"))
        row["_index"] = i
        rows.append(row)
    if problems:
        raise ImpactError(problems)
    return doc, rows


@dataclass
class Prepared:
    """A benchmark table ready to fit: the usable rows, their theoretical terms x = [t_in, t_out], the target y."""

    doc: Doc
    path: Path
    used: list[dict]
    x: np.ndarray
    y: np.ndarray
    by: dict[str, np.ndarray]  # model, accelerator, precision of each used row
    dropped: dict[str, str]  # row label -> why it could not be used


def prepare(tree: Tree, path: str | Path | None = None, methodology: str = "scope3") -> Prepared:
    """Read the benchmark table at `path` (default: the shipped TensorRT-LLM table) and compute its terms."""
    path = Path(path) if path else tree.root / SHIPPED_DATA
    method = tree.methodology(methodology, Location(None, path=f"--methodology {methodology}"))
    doc, rows = read_table(tree, path)
    label = [str(row.get("row", row["_index"] + 1)) for row in rows]
    terms, kept, dropped = duration_terms(tree, method, doc, rows)
    if len(kept) < MIN_ROWS:
        expected = f"at least {MIN_ROWS} rows whose model, accelerator and precision resolve"
        raise ImpactError(Problem(doc.loc(("rows",)), f"only {len(kept)} usable row(s)", expected))
    used = [rows[i] for i in kept]
    x = np.column_stack([terms["t_in"], terms["t_out"]])
    y = np.array([r["output_tokens"] / r["output_tokens_per_s"] for r in used], dtype=np.float64)
    by = {key: np.array([str(r[key]) for r in used]) for key in ("model", "accelerator", "precision")}
    return Prepared(doc, path, used, x, y, by, {label[i]: reason for i, reason in dropped.items()})


def calibrate(tree: Tree, path: str | Path | None = None, methodology: str = "scope3",
              prepared: Prepared | None = None) -> Fit:  # fmt: skip
    """Fit the betas of `methodology` on a benchmark table (see `prepare`), with held-out errors."""
    p = prepared or prepare(tree, path, methodology)
    x, y, by, doc = p.x, p.y, p.by, p.doc
    beta = _fit(x, y, doc)
    pred = x @ beta
    per_precision = {q: tuple(_fit(x[by["precision"] == q], y[by["precision"] == q], doc, strict=False))
                     for q in sorted(set(by["precision"]))}  # fmt: skip
    return Fit(
        float(beta[0]), float(beta[1]), len(y), _r2_log(pred, y), _mape(pred, y),
        _cv(x, y, by["model"], doc), _cv(x, y, by["accelerator"], doc),
        _cv(x, y, by["model"], doc, split=by["precision"]),
        {str(q): (float(b[0]), float(b[1])) for q, b in per_precision.items()},
        tree.relative(p.path) if p.path.resolve().is_relative_to(tree.root) else str(p.path),
        "sha256:" + hashlib.sha256(p.path.read_bytes()).hexdigest(),
        p.dropped,
        {key: len(set(values)) for key, values in by.items()},
    )  # fmt: skip


def duration_terms(tree: Tree, method, doc: Doc, rows: list[dict], targets=("t_in", "t_out"), calibration=None):
    """The methodology's `targets` (formulas or inputs) for table rows naming model, accelerator, precision, gpus
    and token counts, through its own bindings and formulas: (arrays, indexes of rows used, {index: why not})."""
    selections = [_entities(tree, doc, row, calibration) for row in rows]
    needed = method.plan(targets=list(targets))[1]
    needed += [name for name in targets if name in method.inputs and name not in needed]
    columns, kept, dropped = bind_rows(method, needed, selections)
    formulas = [name for name in targets if name in method.formulas]
    return ({**columns, **evaluate_columns(method, columns, formulas)} if kept else {}), kept, dropped


def _entities(tree: Tree, doc: Doc, row: dict, calibration: Entry | None) -> dict[str, Entry]:
    prefix = ("rows", row["_index"])
    request = {"input_tokens": row["input_tokens"], "output_tokens": row["output_tokens"]}
    entities = {
        "model": tree.catalog("models")[row["model"]],
        "accelerator": tree.catalog("accelerators")[row["accelerator"]],
        "precision": tree.catalog("precisions")[row["precision"]],
        "hardware": Entry("hardware", "hardware", {"gpus": row["gpus"]}, doc, doc.file, prefix),
        "request": Entry("request", "request", request, doc, doc.file, prefix),
    }
    if calibration is not None:
        entities["calibration"] = calibration
    return entities


def _fit(x: np.ndarray, y: np.ndarray, doc: Doc, strict: bool = True) -> np.ndarray:
    """Non-negative betas minimising squared relative error; refuses a singular or ill-conditioned system."""
    from scipy.optimize import nnls  # deferred: scipy is only needed to calibrate

    a = x / y[:, None]
    condition = np.linalg.cond(a) if len(a) >= 2 else np.inf
    if not np.isfinite(condition) or condition > MAX_CONDITION:
        if not strict:
            return np.array([np.nan, np.nan])
        raise ImpactError(
            Problem(
                doc.loc(("rows",)),
                f"the fit is singular or ill-conditioned (condition number {condition:.3g})",
                "rows that vary the input and output lengths independently",
            )
        )
    beta, _ = nnls(a, np.ones(len(y)))
    return beta


def _mape(pred: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(np.abs(pred - y) / y))


def _r2_log(pred: np.ndarray, y: np.ndarray) -> float:
    if np.any(pred <= 0):
        return float("nan")
    residual = np.log(y) - np.log(pred)
    spread = np.log(y) - np.log(y).mean()
    return float(1 - (residual @ residual) / (spread @ spread))


def _cv(x, y, groups, doc, split=None) -> float | None:
    """Pooled MAPE of leave-one-group-out predictions; None when there are fewer than two groups."""
    if len(np.unique(groups)) < 2:
        return None
    pred = held_out(x, y, groups, doc, split)
    ok = np.isfinite(pred)
    return _mape(pred[ok], y[ok])


def held_out(x, y, groups, doc, split=None) -> np.ndarray:
    """Each row predicted by betas fitted without its group; with `split`, separate betas per split value."""
    pred = np.empty_like(y)
    for group in np.unique(groups):
        test = groups == group
        train = ~test
        if split is None:
            pred[test] = x[test] @ _fit(x[train], y[train], doc, strict=False)
            continue
        for value in np.unique(split[test]):
            part_train = train & (split == value)
            beta = _fit(x[part_train], y[part_train], doc, strict=False)
            if not np.all(np.isfinite(beta)):
                beta = _fit(x[train], y[train], doc, strict=False)  # too few rows of that kind: pooled betas
            pred[test & (split == value)] = x[test & (split == value)] @ beta
    return pred


def prefers_per_precision(fit: Fit) -> bool:
    """Per-precision betas only when they lower the held-out error (and it could be measured)."""
    pooled, split = fit.cv_mape_by_model, fit.cv_mape_per_precision
    return pooled is not None and split is not None and split < pooled and len(fit.per_precision) > 1


def entry_fields(fit: Fit, date: str) -> dict:
    """The calibration fields of scope3's throughput fit."""
    fields = {"beta_in": fit.beta_in, "beta_out": fit.beta_out}
    if prefers_per_precision(fit):
        fields["beta_in_by_precision"] = {p: b[0] for p, b in fit.per_precision.items()}
        fields["beta_out_by_precision"] = {p: b[1] for p, b in fit.per_precision.items()}
    held_out = {"cv_mape_by_model": fit.cv_mape_by_model, "cv_mape_by_accelerator": fit.cv_mape_by_accelerator,
                "cv_mape_per_precision": fit.cv_mape_per_precision}  # fmt: skip
    fields.update({
        "rows": fit.rows, "r2": fit.r2_log, "mape": fit.mape,
        **{key: value for key, value in held_out.items() if value is not None},
        "date": date, "data": fit.data, "data_hash": fit.data_hash,
    })  # fmt: skip
    return fields


def batch1_betas(tree: Tree) -> dict:
    """scope3's coefficients for one request at a time (the `local` deployment's load): beta_in from TensorRT-LLM's
    batch-1 first-token latencies against t_in, beta_out from seed 002's single-request decode speeds against the
    t_out of one token. Each minimises the squared relative error, beta = sum(x/y) / sum((x/y)^2)."""
    from .validate import batch1_terms

    out = {}
    for name, (x, y) in batch1_terms(tree).items():
        r = x / y
        out[name] = float(r.sum() / (r @ r))
    return {"beta_in_by_load": {"batch-1": out["beta_in"]}, "beta_out_by_load": {"batch-1": out["beta_out"]}}
