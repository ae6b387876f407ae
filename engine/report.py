"""Turn runs into plain rows: the JSON document and the rows every table and file is drawn from.

Nothing here imports rich or click and nothing makes text: `engine/render/` turns these rows into terminal
tables, JSON, CSV and Markdown. `number` writes six significant digits; the documents carry full precision.
"""

from __future__ import annotations

from .api import Run
from .compare import LABELS


def number(value) -> str:
    """A value for people: six significant digits."""
    values = [float(v) for v in getattr(value, "ravel", lambda: [value])()]
    return ", ".join(f"{v:.6g}" for v in values)


def document(runs: list[Run], explain: bool = False) -> dict:
    """The JSON contract: {"runs": [{"methodology", "inputs", "results", ...}]}; with `explain`, each run also
    has "explain": every formula's expression with its values substituted and the names it reads."""
    from .explain import derivations

    return {"runs": [{**r.to_dict(), **({"explain": derivations(r)} if explain else {})} for r in runs]}


def result_rows(run: Run) -> list[dict]:
    """One row per result; with a `total` column when the scenario covers several requests, and p5, p50,
    p95 when it was sampled."""
    totals = run.totals() if run.requests != 1 else {}
    spreads = run.uncertainty["results"] if run.uncertainty else None
    rows = []
    for name, r in run.results.items():
        row = {"name": name, "value": number(r.value), "unit": r.unit, "description": r.description}
        if totals:
            row["total"] = number(totals[name].value) if name in totals else ""
        if spreads is not None:
            sp = spreads.get(name)
            for key in SPREAD_COLUMNS:
                row[key] = number(getattr(sp, key)) if sp else ""
        rows.append(row)
    return rows


SPREAD_COLUMNS = ("p5", "p50", "p95", "mean")


def sensitivity_rows(run: Run, top: int = 3) -> list[dict]:
    """For each result with a spread, the uncertain inputs that drive it most (Spearman rho)."""
    if not run.uncertainty:
        return []
    rows = []
    for name, sp in run.uncertainty["results"].items():
        if sp.sensitivity:
            drivers = ", ".join(f"{k} {rho:+.2f}" for k, rho in sp.sensitivity[:top])
            rows.append({"result": name, "drivers (rank correlation)": drivers})
    return rows


def shown_results(run: Run) -> list[str]:
    """The results a wide table shows: the methodology's headline ones (all of them if it names none)."""
    names = [n for n in dict.fromkeys(run.method.headline.values()) if n in run.results] if run.method else []
    return names or list(run.results)


def sweep_rows(runs: list[Run], every_result: bool = True) -> tuple[list[dict], list[str]]:
    """(one row per point of a sweep, the columns): the swept values, then results as
    `methodology.result [unit]` (every result, or each methodology's headline ones)."""
    first = runs[0]
    keys = list(first.points)
    n = len(first.points[keys[0]])
    rows = [{"point": i + 1, **{k: first.points[k][i] for k in keys}} for i in range(n)]
    columns = ["point", *keys]
    for run in runs:
        for name in run.results if every_result else shown_results(run):
            r = run.results[name]
            column = f"{run.methodology}.{name} [{r.unit}]" if r.unit else f"{run.methodology}.{name}"
            columns.append(column)
            for row, v in zip(rows, r.value, strict=True):
                row[column] = float(v)
    return rows, columns


def input_rows(run: Run) -> list[dict]:
    return [
        {"name": name, "value": number(v.value), "unit": v.unit, "source": v.source} for name, v in run.inputs.items()
    ]


def comparison_rows(comparison) -> list[dict]:
    """Rows of a comparison for people: quantity, unit, one column per methodology, then the ratios."""
    base = comparison.methodologies[0]
    rows = []
    for row in comparison.rows:
        out = {"quantity": LABELS.get(row["quantity"], row["quantity"])}
        if "point" in row:  # a sweep: one row per quantity and point, labelled with the swept values
            out[_point_header(comparison)] = ", ".join(_shown(v) for v in row["point"].values())
        out["unit"] = row["unit"]
        for m in comparison.methodologies:
            value = row["values"][m]
            out[m] = "" if value is None else number(value)
        for m in comparison.methodologies[1:]:
            ratio = row["ratios"][m]
            out[f"{m} / {base}"] = "" if ratio is None else f"{ratio:.3g}"
        rows.append(out)
    return rows


def comparison_columns(comparison) -> list[str]:
    base = comparison.methodologies[0]
    point = [_point_header(comparison)] if comparison.points else []
    return ["quantity", *point, "unit", *comparison.methodologies,
            *(f"{m} / {base}" for m in comparison.methodologies[1:])]  # fmt: skip


def _point_header(comparison) -> str:
    return ", ".join(comparison.points)


def _shown(value) -> str:
    return number(value) if isinstance(value, float) else str(value)


def memory_matrix(rows: list[dict], suffix: str, unit: str) -> tuple[list[dict], list[str]]:
    """Memory rows as a matrix for people: one line per model, one column per precision, each cell
    'total / accelerators needed' (the unit is the caller's to state)."""
    precisions = list(dict.fromkeys(r["precision"] for r in rows))
    matrix: dict[str, dict] = {}
    for r in rows:
        line = matrix.setdefault(r["model"], {"model": r["model"], "params (B)": f"{r['params_b']:.4g}"})
        line[r["precision"]] = f"{r['total' + suffix]:.4g} / {r['gpus_needed']}"
    return list(matrix.values()), ["model", "params (B)", *precisions]


def batch_rows(data: dict, every_result: bool = False, show=number) -> tuple[list[dict], list[str]]:
    """Rows of a batch: the total, then one per --by group; columns: requests and the results that add up,
    each methodology's headline ones (or every one), each value written with `show`."""
    names = [(m, n, r["unit"]) for m, results in data["totals"].items() for n, r in results.items()
             if every_result or n in data["headline"].get(m, [])]  # fmt: skip
    labels = [f"{m}.{n} [{u}]" if u else f"{m}.{n}" for m, n, u in names]
    groups = [({b: "total" for b in data["by"]}, data["requests"], data["totals"])]
    groups += [(g["key"], g["requests"], g["totals"]) for g in data["groups"]]
    rows = []
    for key, requests, totals in groups:
        row = {**key, "requests": show(float(requests))}
        for (m, n, _), label in zip(names, labels, strict=True):
            row[label] = show(float(totals.get(m, {}).get(n, {}).get("value", 0.0)))
        rows.append(row)
    return rows, [*data["by"], "requests", *labels]
