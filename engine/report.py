"""Turn runs into plain rows and texts: the JSON document, CSV and Markdown.

Nothing here imports rich or click: `cli.py` renders the rows as tables. Numbers are shown with six
significant digits in tables; JSON and CSV carry full precision.
"""

from __future__ import annotations

import csv
import io
import json

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


def to_json(runs: list[Run], explain: bool = False) -> str:
    return json.dumps(document(runs, explain), indent=2) + "\n"


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


def to_csv(runs: list[Run]) -> str:
    """One row per result and per input: methodology, kind, name, value, unit, total, source (and p5, p50,
    p95, mean when sampled). A sweep is one row per point instead (`sweep_rows`)."""
    if runs and runs[0].points is not None:
        rows, columns = sweep_rows(runs)
        return plain_csv([{c: (repr(r[c]) if isinstance(r[c], float) else r[c]) for c in columns} for r in rows])
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    sampled = any(run.uncertainty for run in runs)
    writer.writerow(["scenario", "methodology", "kind", "name", "value", "unit", "total", "source"]
                    + (list(SPREAD_COLUMNS) if sampled else []))  # fmt: skip
    for run in runs:
        totals = run.totals() if run.requests != 1 else {}
        spreads = (run.uncertainty or {}).get("results", {})
        for name, r in run.results.items():
            total = repr(float(totals[name].value[0])) if name in totals else ""
            sp = spreads.get(name)
            spread = [repr(getattr(sp, k)) if sp else "" for k in SPREAD_COLUMNS] if sampled else []
            writer.writerow(
                [run.scenario.name, run.methodology, "result", name, repr(float(r.value[0])), r.unit, total, ""]
                + spread
            )
        for name, v in run.inputs.items():
            writer.writerow(
                [run.scenario.name, run.methodology, "input", name, repr(float(v.value[0])), v.unit, "", v.source]
                + ([""] * len(SPREAD_COLUMNS) if sampled else [])
            )
    return out.getvalue()


def markdown_table(rows: list[dict], columns: list[str]) -> str:
    def cell(text) -> str:
        return str(text).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    lines += ["| " + " | ".join(cell(row.get(c, "")) for c in columns) + " |" for row in rows]
    return "\n".join(lines)


def to_markdown(runs: list[Run]) -> str:
    if runs and runs[0].points is not None:
        rows, columns = sweep_rows(runs, every_result=False)
        shown = [{c: (number(r[c]) if isinstance(r[c], float) else r[c]) for c in columns} for r in rows]
        return f"## {runs[0].scenario.name}: sweep of {len(rows)} points\n\n" + markdown_table(shown, columns) + "\n"
    parts = []
    for run in runs:
        parts.append(f"## {run.scenario.name}: {run.methodology} {run.version}\n")
        columns = (
            ["name", "value", "unit"]
            + (["total"] if run.requests != 1 and run.totals() else [])
            + (list(SPREAD_COLUMNS) if run.uncertainty else [])
            + ["description"]
        )
        parts.append(markdown_table(result_rows(run), columns) + "\n")
        if run.uncertainty:
            u = run.uncertainty
            parts.append(f"### Sensitivity ({u['samples']} samples, seed {u['seed']})\n")
            parts.append(markdown_table(sensitivity_rows(run), ["result", "drivers (rank correlation)"]) + "\n")
        parts.append("### Inputs\n")
        parts.append(markdown_table(input_rows(run), ["name", "value", "unit", "source"]) + "\n")
        for title, items in (("Assumptions", run.assumptions), ("Warnings", run.warnings)):
            if items:
                parts.append(f"### {title}\n\n" + "\n".join(f"- {item}" for item in items) + "\n")
    return "\n".join(parts)


def comparison_rows(comparison) -> list[dict]:
    """Rows of a comparison for people: quantity, unit, one column per methodology, then the ratios."""
    base = comparison.methodologies[0]
    rows = []
    for row in comparison.rows:
        out = {"quantity": LABELS.get(row["quantity"], row["quantity"]), "unit": row["unit"]}
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
    return ["quantity", "unit", *comparison.methodologies, *(f"{m} / {base}" for m in comparison.methodologies[1:])]


def comparison_json(comparison) -> str:
    return json.dumps(comparison.to_dict(), indent=2) + "\n"


def comparison_csv(comparison) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["scenario", "quantity", "unit", "methodology", "value", "ratio_to_" + comparison.methodologies[0]])
    for row in comparison.rows:
        for m in comparison.methodologies:
            value, ratio = row["values"][m], row["ratios"][m]
            writer.writerow(
                [
                    comparison.scenario.name,
                    row["quantity"],
                    row["unit"],
                    m,
                    "" if value is None else repr(value),
                    "" if ratio is None else repr(ratio),
                ]
            )
    return out.getvalue()


def comparison_markdown(comparison) -> str:
    title = f"## {comparison.scenario.name}: " + " vs ".join(comparison.methodologies) + "\n\n"
    return title + markdown_table(comparison_rows(comparison), comparison_columns(comparison)) + "\n"


def plain_csv(rows: list[dict]) -> str:
    """Rows of plain values as CSV, columns in the first row's order."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]) if rows else [], lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


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


def batch_json(data: dict) -> str:
    return json.dumps(data, indent=2) + "\n"


def batch_csv(data: dict) -> str:
    """The totals and groups as CSV: every result that adds up, full precision."""
    return plain_csv(batch_rows(data, every_result=True, show=repr)[0])


def batch_markdown(data: dict) -> str:
    rows, columns = batch_rows(data)
    title = f"## {data['log']}: {data['rows']:,} rows, {data['requests']:,.6g} requests"
    if data["skipped"]:
        title += f", {data['skipped']:,} bad rows skipped"
    return title + "\n\n" + markdown_table(rows, columns) + "\n"
