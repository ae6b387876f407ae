"""Markdown: GitHub-flavoured tables and headings, for a pull request, a wiki page or a report."""

from __future__ import annotations

from .. import report
from ..report import SPREAD_COLUMNS


def table(rows: list[dict], columns: list[str]) -> str:
    def cell(text) -> str:
        return str(text).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    lines += ["| " + " | ".join(cell(row.get(c, "")) for c in columns) + " |" for row in rows]
    return "\n".join(lines)


def summary(runs, units: str = "si") -> str:
    """The headline table: a row per methodology, per request and (when more than one) in total."""
    from .layout import figure

    parts = []
    blocks = [("per request", False)]
    if runs and runs[0].requests != 1:
        blocks.append((f"total, {report.requests_label(runs[0].requests)}", True))
    for title, total in blocks:
        rows, columns = report.summary_rows(runs, units, total)
        if columns and rows:
            names = [report.ROLE_LABELS.get(role, role) for role, _ in columns]
            labels = [f"{n} [{u}]" if u not in report.COUNTS else n for n, (_, u) in zip(names, columns, strict=True)]
            shown = [{"methodology": r["methodology"], **{label: figure(r.get(role)) for (role, _), label in
                      zip(columns, labels, strict=True)}} for r in rows]  # fmt: skip
            heading = f"## {runs[0].scenario.name}: summary, {title}"
            parts.append(heading + "\n\n" + table(shown, ["methodology", *labels]) + "\n")
    return "\n".join(parts)


def runs(runs, units: str = "si") -> str:
    if runs and runs[0].points is not None:
        rows, columns = report.sweep_rows(runs, every_result=False)
        shown = [{c: (report.number(r[c]) if isinstance(r[c], float) else r[c]) for c in columns} for r in rows]
        return f"## {runs[0].scenario.name}: sweep of {len(rows)} points\n\n" + table(shown, columns) + "\n"
    parts = [summary(runs, units)] if runs else []
    for run in runs:
        parts.append(f"## {run.scenario.name}: {run.methodology} {run.version}\n")
        columns = (
            ["name", "value", "unit"]
            + (["total"] if run.requests != 1 and run.totals() else [])
            + (list(SPREAD_COLUMNS) if run.uncertainty else [])
            + ["description"]
        )
        parts.append(table(report.result_rows(run, units=units), columns) + "\n")
        if run.uncertainty:
            u = run.uncertainty
            parts.append(f"### Sensitivity ({u['samples']} samples, seed {u['seed']})\n")
            parts.append(table(report.sensitivity_rows(run), ["result", "drivers (rank correlation)"]) + "\n")
        parts.append("### Inputs\n")
        parts.append(table(report.input_rows(run), ["name", "value", "unit", "source"]) + "\n")
        for title, items in (("Assumptions", run.assumptions), ("Warnings", run.warnings)):
            if items:
                parts.append(f"### {title}\n\n" + "\n".join(f"- {item}" for item in items) + "\n")
    return "\n".join(parts)


def comparison(comparison) -> str:
    title = f"## {comparison.scenario.name}: " + " vs ".join(comparison.methodologies) + "\n\n"
    return title + table(report.comparison_rows(comparison), report.comparison_columns(comparison)) + "\n"


def batch(data: dict) -> str:
    rows, columns = report.batch_rows(data)
    title = f"## {data['log']}: {data['rows']:,} rows, {data['requests']:,.6g} requests"
    if data["skipped"]:
        title += f", {data['skipped']:,} bad rows skipped"
    text = title + "\n\n" + table(rows, columns) + "\n"
    if "sessions" in data:
        from ..batchsummary import session_rows

        text += "\n### Per session\n\n" + table(*session_rows(data, report.number)) + "\n"
    return text


def memory(rows: list[dict], unit: str) -> str:
    table_rows, columns = report.memory_matrix(rows, "_gib" if unit == "GiB" else "_gb", unit)
    return table(table_rows, columns) + "\n"
