"""Fit a methodology's declared parameters on benchmark tables: calibration as configuration.

A formulas file says what is fitted and on what (`calibration:`):

    calibration:
      per: engine                                 # one set of values per serving engine (its `fit` key)
      fitted:
        eff_bw: {min: 0.05, max: 1, start: 0.7}   # inputs, bounded; stored as the calibration's serving_eff_bw
      datasets:
        trtllm-ttft:                              # catalogs/benchmarks/trtllm-ttft.yaml
          engine: tensorrt-llm                    # or the table's `engine` column
          columns: {gpus: tp, output_tokens: 1, concurrency: 1}   # scenario fields from the table's columns
          compare: {ttft: first_token_ms / 1000}  # result -> the measured value, in the result's unit
        trtllm-static:                            # a second dataset of one table: `table:` names it
          table: trtllm-throughput
          where: batch_size > 0                   # rows selected by a condition over the table's columns

Each row becomes a point: its model, accelerator, precision and engine select catalog entries, its columns give
the request, the GPU count and the load, and the methodology's own bindings and formulas predict the compared
results, over all rows at once (`columns.bind_rows`, `columns.evaluate_columns`). scipy's least_squares minimises
the squared log ratio predicted / measured over every compared value, each dataset weighted equally (a table of
4,000 rows does not drown one of 17). A parameter that no row of an engine informs is tied to the engine with the
most rows, and said so. A fitted input with `per: accelerator.FIELD` has one value per value of that accelerator
field instead (serving's eff_arch, per architecture family): the value with most rows is the reference, fixed at
`start`, and another is fitted only through an engine measured on the reference too. Held-out errors refit
without each fold of whole models, whole accelerators or whole engines and predict the rows left out (an engine
left out borrows the reference engine's values, as an engine without measurements does).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np

from .columns import bind_rows, evaluate_columns
from .errors import ImpactError, Location, Problem
from .evaluate import _one_row
from .methodology import Methodology
from .tree import Entry, Tree

FOLDER = "catalogs/benchmarks"
ROW_FIELDS = {"input_tokens": ("request", "input_tokens"), "output_tokens": ("request", "output_tokens"),
              "gpus": ("hardware", "gpus"), "concurrency": ("serving", "concurrency")}  # fmt: skip
FOLDS = 5


@dataclass
class Rows:
    """The usable rows of every dataset, bound once: inputs as columns, measured values, labels."""

    columns: dict[str, np.ndarray]  # every non-fitted input the compared results read
    fit_key: np.ndarray  # engine fit key per row
    keys: dict[str, np.ndarray]  # "engine" or "accelerator.FIELD" -> key per row (a fitted input's `per`)
    dataset: np.ndarray
    measured: dict[str, np.ndarray]  # result -> measured value per row (nan where the dataset does not compare it)
    labels: dict[str, np.ndarray]  # model, accelerator, engine, family, precision, concurrency per row
    dropped: dict[str, str] = field(default_factory=dict)  # "dataset row" -> why it was not used
    hashes: dict[str, str] = field(default_factory=dict)  # dataset -> sha256 of its file


def prepare(tree: Tree, method: Methodology) -> Rows:
    """Read and bind every dataset the methodology's calibration names."""
    spec = _spec(method)
    targets = list(dict.fromkeys(r for d in spec["datasets"].values() for r in d["compare"]))
    fitted = set(spec["fitted"])
    needed = [n for n in method.plan(targets=targets)[1] if n not in fitted]
    parts, dropped, hashes = [], {}, {}
    pers = {f.get("per", "engine") for f in spec["fitted"].values()} - {"engine"}  # keys besides the engine's
    for name, dataset in spec["datasets"].items():
        path = tree.root / FOLDER / f"{dataset.get('table', name)}.yaml"
        doc = tree.table(path)
        hashes[name] = "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()
        header = doc.data["columns"]
        rows = [dict(zip(header, values, strict=False), _index=i) for i, values in enumerate(doc.data["rows"])]
        table = {c: np.array([_number(r.get(c)) for r in rows]) for c in header}
        where = np.ones(len(rows), dtype=bool)
        if dataset.get("where"):
            where &= _expr(dataset["where"], table, doc, name) != 0
        fields = {k: np.broadcast_to(_expr(e, table, doc, name), (len(rows),)) for k, e in
                  (dataset.get("columns") or {}).items() if k in ROW_FIELDS}  # fmt: skip
        measured = {r: np.broadcast_to(_expr(e, table, doc, name), (len(rows),)) for r, e in dataset["compare"].items()}
        selections, kept_rows = [], []
        for i, row in enumerate(rows):
            if not where[i]:
                continue
            found = _entities(tree, doc, row, {k: v[i] for k, v in fields.items()}, dataset.get("engine"))
            if isinstance(found, str):
                dropped[f"{name} {row.get('row', i + 1)}"] = found
                continue
            selections.append(found)
            kept_rows.append(i)
        bound, kept, why = bind_rows(method, needed, selections)
        for j, reason in why.items():
            dropped[f"{name} {rows[kept_rows[j]].get('row', kept_rows[j] + 1)}"] = reason
        used = [kept_rows[j] for j in kept]
        if not used:
            continue
        for key, text in (dataset.get("columns") or {}).items():  # an input set by the dataset, e.g. kv_bytes
            if key in method.inputs and key not in ROW_FIELDS:
                env = {**{c: v[used] for c, v in table.items()}, **bound}
                bound[key] = np.broadcast_to(_expr(text, env, doc, name), (len(used),)).astype(np.float64)
        chosen = [selections[j] for j in kept]
        models = tree.catalog("models")
        parts.append({
            "columns": bound,
            "fit_key": np.array([s["engine"].data["fit"] for s in chosen]),
            "keys": {per: np.array([str(s["accelerator"].data.get(per.split(".", 1)[1], "")) for s in chosen])
                     for per in pers},
            "dataset": np.full(len(used), name),
            "measured": {r: np.asarray(v, dtype=np.float64)[used] for r, v in measured.items()},
            "labels": {"model": np.array([s["model"].id for s in chosen]),
                       "accelerator": np.array([s["accelerator"].id for s in chosen]),
                       "engine": np.array([s["engine"].id for s in chosen]),
                       "precision": np.array([s["precision"].id for s in chosen]),
                       "family": np.array([models[s["model"].id].data.get("family", s["model"].id) for s in chosen]),
                       "concurrency": np.array([float(s["serving"].data.get("concurrency", 0)) for s in chosen])},
        })  # fmt: skip
    if not parts:
        raise ImpactError(Problem(method.location, "no usable benchmark row for any dataset of the calibration",
                                  "rows whose model, accelerator, precision and engine resolve"))  # fmt: skip
    return _concatenate(parts, targets, dropped, hashes)


def _spec(method: Methodology) -> dict:
    if not method.calibration:
        raise ImpactError(Problem(method.location, f"methodology '{method.name}' declares no calibration",
                                  "a calibration: mapping (fitted, datasets) in its formulas file"))  # fmt: skip
    return method.calibration


def _number(value) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else np.nan


def _expr(text, table: dict, doc, dataset: str) -> np.ndarray:
    """An expression over a table's numeric columns (a number is an expression too)."""
    if isinstance(text, (int, float)):
        return np.asarray(float(text))
    from . import expressions

    try:
        names = expressions.names(expressions.parse(str(text)))
    except expressions.UnsafeExpression as exc:
        raise ImpactError(Problem(doc.loc(), f"calibration dataset {dataset}: {exc}", expressions.EXPECTED)) from None
    missing = [n for n in names if n not in table]
    if missing:
        message = f"calibration dataset {dataset} reads column(s) {', '.join(missing)}, which the table lacks"
        raise ImpactError(Problem(doc.loc(("columns",)), message, "columns of " + doc.file))
    with np.errstate(all="ignore"):
        return np.asarray(_one_row(str(text), {n: table[n] for n in names}), dtype=np.float64)


def _entities(tree: Tree, doc, row: dict, fields: dict, engine_id) -> dict[str, Entry] | str:
    """The catalog entries and scenario parts a row selects, or why it cannot be used."""
    engine_id = row.get("engine") or engine_id
    picks = {"model": "models", "accelerator": "accelerators", "precision": "precisions"}
    entities = {}
    for key, catalog in picks.items():
        entry = tree.catalog(catalog).get(str(row.get(key)))
        if entry is None:
            return f"no {catalog} entry '{row.get(key)}'"
        entities[key] = entry
    engine = tree.catalog("engines").get(str(engine_id))
    if engine is None:
        return f"no engines entry '{engine_id}'"
    entities["engine"] = engine
    values = {**{k: row.get(k) for k in ROW_FIELDS if k in row}, **fields}
    parts: dict[str, dict] = {"request": {}, "hardware": {}, "serving": {}}
    for key, value in values.items():
        value = _number(value)
        if key in ROW_FIELDS and np.isfinite(value) and not (key == "concurrency" and value <= 0):
            entity, name = ROW_FIELDS[key]
            parts[entity][name] = int(value) if key != "concurrency" else value
    for entity, data in parts.items():
        entities[entity] = Entry(entity, entity, data, doc, doc.file, ("rows", row["_index"]))
    return entities


def _concatenate(parts, targets, dropped, hashes) -> Rows:
    names = set.intersection(*(set(p["columns"]) for p in parts))
    columns = {n: np.concatenate([p["columns"][n] for p in parts]) for n in names}
    measured = {}
    for result in targets:
        measured[result] = np.concatenate([p["measured"].get(result, np.full(len(p["dataset"]), np.nan))
                                           for p in parts])  # fmt: skip
    labels = {k: np.concatenate([p["labels"][k] for p in parts]) for k in parts[0]["labels"]}
    fit_key = np.concatenate([p["fit_key"] for p in parts])
    keys = {k: np.concatenate([p["keys"][k] for p in parts]) for k in parts[0]["keys"]}
    return Rows(columns, fit_key, {"engine": fit_key, **keys}, np.concatenate([p["dataset"] for p in parts]),
                measured, labels, dropped, hashes)  # fmt: skip


@dataclass
class Fit:
    """Fitted values per engine fit key, which were tied to the reference engine, and the errors."""

    values: dict[str, dict[str, float]]  # fit key -> parameter -> value
    tied: dict[str, list[str]]  # fit key -> parameters taken from the reference engine
    reference: str
    rows: dict[str, int]  # dataset -> rows used
    errors: dict = field(default_factory=dict)  # in-sample and held-out, per dataset and result
    references: dict[str, str] = field(default_factory=dict)  # per-family parameter -> its reference (fixed) key


class Fitter:
    """Least squares of log(predicted / measured) over every compared value of the prepared rows."""

    def __init__(self, method: Methodology, rows: Rows):
        self.method, self.rows = method, rows
        self.spec = _spec(method)
        self.fitted = list(self.spec["fitted"])
        self.targets = list(rows.measured)
        self.per = {p: self.spec["fitted"][p].get("per", "engine") for p in self.fitted}
        # per fitted input: its keys (engines, or values of an accelerator field) and each row's key
        self.key_of = {p: rows.keys[self.per[p]] for p in self.fitted}
        self.key_codes = {p: np.unique(self.key_of[p], return_inverse=True) for p in self.fitted}

    def predict(self, values: dict[str, dict[str, float]], mask=None, fallback: str | None = None) -> dict:
        """Predicted compared results for the rows in `mask` with per-key `values` (an engine without values
        uses `fallback`'s; an accelerator family without values, the input's start, the reference's value)."""
        mask = np.ones(len(self.rows.dataset), dtype=bool) if mask is None else mask
        columns = {n: c[mask] for n, c in self.rows.columns.items()}
        for name in self.fitted:
            keys, codes = self.key_codes[name]
            start = self.spec["fitted"][name]["start"]
            spare = values.get(fallback, {}) if self.per[name] == "engine" else {}
            table = np.array([values.get(k, spare).get(name, spare.get(name, start)) for k in keys], dtype=np.float64)
            columns[name] = table[codes[mask]]
        with np.errstate(all="ignore"):
            return evaluate_columns(self.method, columns, self.targets)

    def residuals(self, values, mask=None, rows_only: bool = False) -> np.ndarray:
        """log(predicted / measured) of every compared value, each (dataset, result) weighing the same; with
        `rows_only`, the row index of each residual instead (for the Jacobian's sparsity)."""
        mask = np.ones(len(self.rows.dataset), dtype=bool) if mask is None else mask
        predicted = None if rows_only else self.predict(values, mask)
        parts = []
        datasets = self.rows.dataset[mask]
        index = np.flatnonzero(mask)
        for result in self.targets:
            measured = self.rows.measured[result][mask]
            ok = np.isfinite(measured) & (measured > 0)
            for name in np.unique(datasets[ok]):
                sel = ok & (datasets == name)
                if rows_only:
                    parts.append(index[sel])
                    continue
                ratio = np.log(np.maximum(predicted[result][sel], 1e-30) / measured[sel])
                parts.append(_robust(ratio, self.spec.get("robust_scale")) / np.sqrt(sel.sum()))
        return np.concatenate(parts) if parts else np.zeros(1)

    def fit(self, mask=None, start: dict | None = None, max_nfev: int = 100) -> Fit:
        from scipy.optimize import least_squares  # deferred: only calibration needs scipy here

        mask = np.ones(len(self.rows.dataset), dtype=bool) if mask is None else mask
        keys, counts = np.unique(self.rows.fit_key[mask], return_counts=True)
        reference = str(keys[np.argmax(counts)])
        by_rows = [str(k) for k in keys[np.argsort(-counts)]]
        bounds = self.spec["fitted"]
        present, references = {}, {}  # per input: its keys in these rows; a per-family input: its reference
        for p in self.fitted:
            found, n = np.unique(self.key_of[p][mask], return_counts=True)
            present[p] = [str(k) for k in found]
            if self.per[p] != "engine":  # the family with most rows is fixed at start (the scale's anchor)
                references[p] = str(found[np.argmax(n)])
        free = self._informed(mask, present)
        engines = self.rows.fit_key[mask]
        for p, key in references.items():
            free[(key, p)] = False
            # a family's value is measured against the reference's through an engine with rows on both; a family
            # whose engines run on it alone would trade its value against theirs, so it keeps the reference's
            family = self.key_of[p][mask]
            anchored = set(engines[family == key])
            for k in present[p]:
                if not anchored & set(engines[family == k]):
                    free[(k, p)] = False
        slots = [(k, p) for p in self.fitted for k in present[p] if free[(k, p)]]
        donors = {p: next((k for k in by_rows if free[(k, p)]), None) for p in self.fitted if self.per[p] == "engine"}

        def unpack(x):
            values: dict[str, dict[str, float]] = {}
            for (k, p), v in zip(slots, x, strict=True):
                values.setdefault(k, {})[p] = float(v)
            for p in self.fitted:  # tied: the value of the engine with most rows that informs it; a family: start
                for k in present[p]:
                    if not free[(k, p)]:
                        source = donors.get(p)
                        value = values[source][p] if source else bounds[p]["start"]
                        values.setdefault(k, {})[p] = value
            return values

        x0 = np.array([bounds[p]["start"] for _, p in slots])
        low = np.array([bounds[p]["min"] for _, p in slots])
        high = np.array([bounds[p]["max"] for _, p in slots])
        if start is not None:  # a warm start (held-out refits begin from the full fit)
            x0 = np.clip([start.get(k, {}).get(p, bounds[p]["start"]) for k, p in slots], low, high)
        residual_rows = self.residuals(None, mask, rows_only=True)
        sparsity = np.zeros((len(residual_rows), len(slots)), dtype=bool)
        for j, (k, p) in enumerate(slots):  # a parameter moves its own rows and, for an engine's, those that borrow it
            users = [k] + [kk for kk in present[p] if p in donors and not free[(kk, p)] and donors[p] == k]
            sparsity[:, j] = np.isin(self.key_of[p][residual_rows], users)
        found = least_squares(lambda x: self.residuals(unpack(x), mask), x0, bounds=(low, high), x_scale="jac",
                              jac_sparsity=sparsity, max_nfev=max_nfev)  # fmt: skip
        values = unpack(found.x)
        tied = {k: [p for p in self.fitted if p in donors and k in present[p] and not free[(k, p)]] for k in by_rows}
        rows = {str(d): int((self.rows.dataset[mask] == d).sum()) for d in np.unique(self.rows.dataset[mask])}
        return Fit(values, {k: v for k, v in tied.items() if v}, reference, rows, references=references)

    def _informed(self, mask, present) -> dict:
        """(key, parameter) -> whether the rows of that key move the residuals when the parameter moves."""
        bounds = self.spec["fitted"]
        start = {}
        for p in self.fitted:
            for k in present[p]:
                start.setdefault(k, {})[p] = bounds[p]["start"]
        base = self.predict(start, mask)
        informed = {}
        for p in self.fitted:
            for k in present[p]:
                rows_k = self.key_of[p][mask] == k
                moved = {kk: dict(v) for kk, v in start.items()}
                step = 0.1 * (bounds[p]["max"] - bounds[p]["min"])
                moved[k][p] = min(bounds[p]["start"] + step, bounds[p]["max"])
                after = self.predict(moved, mask)
                change = 0.0
                for result in self.targets:
                    measured = self.rows.measured[result][mask][rows_k]
                    ok = np.isfinite(measured) & (measured > 0)
                    a, b = after[result][rows_k][ok], base[result][rows_k][ok]
                    if len(a):
                        change = max(change, float(np.nanmax(np.abs(a / b - 1))))
                informed[(k, p)] = change > 1e-3  # a step of a tenth of its range moves a prediction 0.1%
        return informed

    def errors(self, values, predicted=None) -> dict:
        """Per dataset and result: rows, median ratio and MAPE of `predicted` (default: in sample)."""
        predicted = predicted if predicted is not None else self.predict(values)
        return summarise(self.rows, predicted)

    def held_out(self, by: str, start: dict | None = None) -> dict[str, np.ndarray]:
        """Predictions of every row by a fit that did not see its group: whole models, accelerators or engines
        (FOLDS folds of models or accelerators; each engine left out in turn). A family that a fold leaves
        without rows takes the reference's value, as a family without measurements does."""
        labels = self.rows.labels[by]
        groups = np.unique(labels)
        if by == "engine":
            folds = [[g] for g in groups]
        else:
            order = np.random.default_rng(0).permutation(groups)
            folds = [list(order[i::FOLDS]) for i in range(min(FOLDS, len(groups)))]
        predicted = {r: np.full(len(labels), np.nan) for r in self.targets}
        for fold in folds:
            test = np.isin(labels, fold)
            if test.all():
                continue
            fit = self.fit(~test, start=start, max_nfev=40)
            found = self.predict(fit.values, test, fallback=fit.reference)
            for r in self.targets:
                predicted[r][test] = found[r]
        return predicted


def _robust(ratio: np.ndarray, scale: float | None) -> np.ndarray:
    """The residual whose square is the pseudo-Huber loss of `ratio`: about ratio**2 for |ratio| well under
    `scale`, about 2 * scale * |ratio| beyond it, so that a few rows no physics explains (a run throttled by
    something the table does not record) do not pull every parameter towards them. None: the ratio itself."""
    if not scale:
        return ratio
    return np.sign(ratio) * scale * np.sqrt(2 * (np.sqrt(1 + (ratio / scale) ** 2) - 1))


def summarise(rows: Rows, predicted: dict) -> dict:
    out = {}
    for result, measured in rows.measured.items():
        for name in np.unique(rows.dataset):
            sel = (rows.dataset == name) & np.isfinite(measured) & (measured > 0) & np.isfinite(predicted[result])
            if sel.any():
                ratio = predicted[result][sel] / measured[sel]
                out[f"{name}:{result}"] = {"rows": int(sel.sum()), "median_ratio": float(np.median(ratio)),
                                           "mape": float(np.mean(np.abs(ratio - 1)))}  # fmt: skip
    return out


def calibrate(tree: Tree, methodology: str, held_out: bool = True) -> tuple[Fit, Fitter]:
    """Fit `methodology`'s declared parameters on its datasets; with `held_out`, also the errors held out by
    whole models, accelerators and engines."""
    method = tree.methodology(methodology, Location(None, path=f"--methodology {methodology}"))
    fitter = Fitter(method, prepare(tree, method))
    fit = fitter.fit()
    fit.errors = {"in_sample": fitter.errors(fit.values)}
    if held_out:
        for by in ("model", "accelerator", "engine"):
            fit.errors[f"held_out_by_{by}"] = summarise(fitter.rows, fitter.held_out(by, fit.values))
    return fit, fitter
