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
    """One row per result; with a `total` column when the scenario covers several requests."""
    totals = run.totals() if run.requests != 1 else {}
    rows = []
    for name, r in run.results.items():
        row = {"name": name, "value": number(r.value), "unit": r.unit, "description": r.description}
        if totals:
            row["total"] = number(totals[name].value) if name in totals else ""
        rows.append(row)
    return rows


def input_rows(run: Run) -> list[dict]:
    return [
        {"name": name, "value": number(v.value), "unit": v.unit, "source": v.source} for name, v in run.inputs.items()
    ]


def to_csv(runs: list[Run]) -> str:
    """One row per result and per input: methodology, kind, name, value, unit, total, source."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["scenario", "methodology", "kind", "name", "value", "unit", "total", "source"])
    for run in runs:
        totals = run.totals() if run.requests != 1 else {}
        for name, r in run.results.items():
            total = repr(float(totals[name].value[0])) if name in totals else ""
            writer.writerow(
                [run.scenario.name, run.methodology, "result", name, repr(float(r.value[0])), r.unit, total, ""]
            )
        for name, v in run.inputs.items():
            writer.writerow(
                [run.scenario.name, run.methodology, "input", name, repr(float(v.value[0])), v.unit, "", v.source]
            )
    return out.getvalue()


def markdown_table(rows: list[dict], columns: list[str]) -> str:
    def cell(text) -> str:
        return str(text).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    lines += ["| " + " | ".join(cell(row.get(c, "")) for c in columns) + " |" for row in rows]
    return "\n".join(lines)


def to_markdown(runs: list[Run]) -> str:
    parts = []
    for run in runs:
        parts.append(f"## {run.scenario.name}: {run.methodology} {run.version}\n")
        columns = (
            ["name", "value", "unit"] + (["total"] if run.requests != 1 and run.totals() else []) + ["description"]
        )
        parts.append(markdown_table(result_rows(run), columns) + "\n")
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
