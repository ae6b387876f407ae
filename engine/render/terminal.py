"""The terminal: rich tables, trees and lines built from the report rows, for the command line to print.

Each function returns a list of rich renderables (tables, trees, marked-up lines) and prints nothing; the CLI
prints them on a console (`console`). User text is escaped (`rich.markup.escape`), so `[red]` in a name stays.
"""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.tree import Tree as RichTree

from .. import report


def console(renderables=(), stderr: bool = False) -> Console:
    """A console for stdout, wide enough for the unwrapped columns of any table in `renderables`."""
    out = Console(soft_wrap=False, highlight=False, stderr=stderr)
    needed = max([_needed(t) for t in renderables if isinstance(t, Table)] or [0])
    if needed > out.width:
        out = Console(soft_wrap=False, highlight=False, stderr=stderr, width=needed)
    return out


def _needed(table: Table) -> int:
    return sum((col.min_width or 0) + 3 for col in table.columns) + 1


def fixed(table: Table, header: str, cells, **kwargs) -> None:
    """A column as wide as its widest cell, never wrapped: only free-text columns shrink."""
    width = max([len(header), *map(len, cells)])
    table.add_column(header, no_wrap=True, min_width=width, **kwargs)


def _notes(run, prefix: str = "") -> list[str]:
    lines = []
    for label, items, style in (("assumption", run.assumptions, "dim"), ("warning", run.warnings, "yellow")):
        for item in items:
            lines.append(f"[{style}]{prefix}{label}: {escape(item)}[/{style}]")
    return lines


def runs(runs, width: int = 80) -> list:
    """A run's tables (a sweep's one table of points), each run's results, inputs, assumptions, warnings."""
    if runs and runs[0].points is not None:
        return sweep(runs)
    out: list = []
    if runs:
        scenario = runs[0].scenario
        deployment = scenario.entities["deployment"]
        what = deployment.data.get("description", deployment.data.get("name", ""))
        out.append(f"[bold]{escape(scenario.name)}[/bold]: deployment {escape(deployment.id)} — {escape(what)}")
    for run in runs:
        out += _run_tables(run, described=width >= 110)  # on a narrow terminal the numbers come first
        out += _notes(run)
        out.append("")
    return out


def _run_tables(run, described: bool) -> list:
    title = f"{escape(run.scenario.name)} — {escape(run.title)} ({escape(run.methodology)} {run.version})"
    results = Table(title=title, title_justify="left")
    rows = report.result_rows(run)
    totals = run.requests != 1 and bool(run.totals())
    fixed(results, "result", [r["name"] for r in rows], style="bold")
    fixed(results, "value", [r["value"] for r in rows], justify="right")
    fixed(results, "unit", [r["unit"] for r in rows])
    if totals:
        fixed(results, f"total x {run.requests:g}", [r["total"] for r in rows], justify="right")
    spread = report.SPREAD_COLUMNS if run.uncertainty else ()
    for key in spread:
        fixed(results, key, [r[key] for r in rows], justify="right")
    if described:
        results.add_column("description")
    for row in rows:
        cells = (
            [row["name"], row["value"], row["unit"]]
            + ([row["total"]] if totals else [])
            + [row[key] for key in spread]
            + ([row["description"]] if described else [])
        )
        results.add_row(*map(escape, cells))
    out = [results]
    if run.uncertainty:
        u = run.uncertainty
        sensitivity = Table(title=f"sensitivity: {u['samples']} samples, seed {u['seed']}", title_justify="left")
        sensitivity.add_column("result")
        sensitivity.add_column("drivers (rank correlation)")
        for row in report.sensitivity_rows(run):
            sensitivity.add_row(*map(escape, row.values()))
        out.append(sensitivity)
    inputs = Table(title="inputs", title_justify="left")
    rows = report.input_rows(run)
    fixed(inputs, "input", [r["name"] for r in rows])
    fixed(inputs, "value", [r["value"] for r in rows], justify="right")
    fixed(inputs, "unit", [r["unit"] for r in rows])
    inputs.add_column("source (citations: --format json)", overflow="fold")
    for row in rows:
        where = row["source"].split("; ", 1)[0]
        inputs.add_row(*map(escape, (row["name"], row["value"], row["unit"], where)))
    out.append(inputs)
    return out


def sweep(runs) -> list:
    rows, columns = report.sweep_rows(runs, every_result=False)
    table = Table(title=f"{runs[0].scenario.name}: sweep of {len(rows)} points (every result: --format csv)",
                  title_justify="left")  # fmt: skip
    cells = {c: [report.number(r[c]) if isinstance(r[c], float) else str(r[c]) for r in rows] for c in columns}
    for c in columns:
        header = escape(c.split(".", 1)[1] if "." in c else c)  # methodology.result [unit]: drop the methodology
        fixed(table, header, cells[c], justify="right" if isinstance(rows[0][c], (int, float)) else "left")
    for i in range(len(rows)):
        table.add_row(*(escape(cells[c][i]) for c in columns))
    out: list = [table]
    for run in runs:
        out += _notes(run, prefix=f"{run.methodology} ")
    return out


def comparison(result) -> list:
    title = f"{escape(result.scenario.name)}: " + " vs ".join(result.methodologies)
    table = Table(title=title, title_justify="left")
    rows, columns = report.comparison_rows(result), report.comparison_columns(result)
    for column in columns:
        justify = "left" if column in ("quantity", "unit") else "right"
        fixed(table, column, [r[column] for r in rows], justify=justify)
    for row in rows:
        table.add_row(*(escape(row[c]) for c in columns))
    return [table]


def rows_table(title: str, rows: list[dict], columns: list[str], text_columns=("model",)) -> Table:
    table = Table(title=escape(title), title_justify="left")
    for column in columns:
        justify = "left" if column in text_columns else "right"
        fixed(table, column, [str(r[column]) for r in rows], justify=justify)
    for row in rows:
        table.add_row(*(escape(str(row[c])) for c in columns))
    return table


def memory(rows: list[dict], unit: str, hardware: str) -> list:
    table_rows, columns = report.memory_matrix(rows, "_gib" if unit == "GiB" else "_gb", unit)
    return [rows_table(f"memory on {hardware} ({unit}: total, then accelerators needed)", table_rows, columns)]


def validation(rows: list[dict]) -> list:
    shown = [{"dataset": f"{r['dataset']}: {r['quantity']}", "group": r["group"], "value": r["value"],
              "n": str(r["count"]), "median pred/meas": f"{r['median_ratio']:.3g}", "MAPE": f"{r['mape']:.1%}"}
             for r in rows]  # fmt: skip
    title = "validation (median ratio: predicted / measured)"
    return [rows_table(title, shown, list(shown[0]), text_columns=("dataset", "group", "value"))]


def batch(data: dict) -> list:
    skipped = f", {data['skipped']:,} bad rows skipped" if data["skipped"] else ""
    title = f"{data['log']}: {data['rows']:,} rows, {data['requests']:,.6g} requests{skipped} (base {data['scenario']})"
    rows, columns = report.batch_rows(data)
    table = Table(title=escape(title), title_justify="left")
    for c in columns:
        fixed(table, escape(c), [str(r.get(c, "")) for r in rows], justify="left" if c in data["by"] else "right")
    for r in rows:
        table.add_row(*(escape(str(r.get(c, ""))) for c in columns))
    if "sessions" not in data:
        return [table]
    from ..batchsummary import session_rows

    rows, columns = session_rows(data, report.number)
    return [table, rows_table("sessions: totals per session", rows, columns, text_columns=("per session",))]


def explain(found: dict) -> list:
    """The derivation tree of a result (engine.explain.explain) as a rich tree."""
    root = RichTree(_explain_label(found))
    _explain_children(root, found)
    return [root]


def _explain_label(node) -> str:
    value = f"{node['value']:.6g} {node['unit']}".rstrip()
    if node["kind"] != "formula":
        return f"[bold]{escape(node['name'])}[/bold] = {escape(value)}  [dim]{escape(node['source'])}[/dim]"
    if node.get("repeated"):
        return f"[bold]{escape(node['name'])}[/bold] = {escape(value)}  [dim](derived above)[/dim]"
    return (f"[bold]{escape(node['name'])}[/bold] = {escape(node['expr'])} = {escape(node['substituted'])} = "
            f"{escape(value)}  [dim]{escape(node['where'])}[/dim]")  # fmt: skip


def _explain_children(branch, node) -> None:
    for child in node.get("reads", []):
        _explain_children(branch.add(_explain_label(child)), child)


def catalog_list(kind: str, entries: dict) -> list:
    table = Table(title=f"{kind} ({len(entries)})", title_justify="left")
    table.add_column("id", style="bold")
    table.add_column("name")
    table.add_column("file")
    for eid, entry in entries.items():
        table.add_row(escape(eid), escape(str(entry.data.get("name", ""))), f"{entry.file}:{entry.loc().line}")
    return [table]


def catalog_entry(kind: str, entry_id: str, entry, units: dict) -> list:
    table = Table(title=f"{kind} {entry_id} ({entry.file}:{entry.loc().line})", title_justify="left")
    for column in ("field", "value", "unit", "source"):
        table.add_column(column, overflow="fold")
    for field, value in entry.data.items():
        if field in ("source", "field_sources", "notes"):
            continue
        cite = entry.cite(field) if field in (entry.data.get("field_sources") or {}) else ""
        table.add_row(escape(field), escape(str(value)), escape(units.get(field, "")), escape(cite))
    out = [table, f"source: {escape(entry.data['source'])}"]
    if entry.data.get("notes"):
        out.append(f"notes: {escape(entry.data['notes'])}")
    return out
