"""CSV: full-precision values (Python's repr of each float), one header row, for spreadsheets and scripts."""

from __future__ import annotations

import csv
import io

from .. import report
from ..report import SPREAD_COLUMNS


def plain(rows: list[dict]) -> str:
    """Rows of plain values as CSV, columns in the first row's order."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]) if rows else [], lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def runs(runs) -> str:
    """One row per result and per input: methodology, kind, name, value, unit, total, source (and p5, p50,
    p95, mean when sampled). A sweep is one row per point instead (`report.sweep_rows`)."""
    if runs and runs[0].points is not None:
        rows, columns = report.sweep_rows(runs)
        return plain([{c: (repr(r[c]) if isinstance(r[c], float) else r[c]) for c in columns} for r in rows])
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


def comparison(comparison) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    swept = list(comparison.points or [])  # a sweep: a column per swept key
    writer.writerow(["scenario", *swept, "quantity", "unit", "methodology", "value",
                     "ratio_to_" + comparison.methodologies[0]])  # fmt: skip
    for row in comparison.rows:
        at = [row["point"][k] for k in swept]
        for m in comparison.methodologies:
            value, ratio = row["values"][m], row["ratios"][m]
            writer.writerow([comparison.scenario.name, *at, row["quantity"], row["unit"], m,
                             "" if value is None else repr(value), "" if ratio is None else repr(ratio)])  # fmt: skip
    return out.getvalue()


def batch(data: dict) -> str:
    """The totals and groups: every result that adds up, full precision."""
    return plain(report.batch_rows(data, every_result=True, show=repr)[0])


def memory(rows: list[dict], unit: str) -> str:
    return plain(rows)


def validation(rows: list[dict], unusable: dict) -> str:
    return plain(rows)
