"""The terminal: rich tables built from the report rows, each fitted to the terminal's width.

`impact run` opens with a summary (a row per methodology: its headline duration, energy, emissions, water,
memory and GPUs, per request and, when the scenario covers several, in total), then the assumptions and
warnings; `details=True` (`--details`, `-v`) adds every result and every input with its source. Each function
returns a list of rich renderables and prints nothing; the CLI prints them (`console`). Tables never cut a
number off: text columns wrap and low-priority columns are left out, with a line saying so (layout.table).
User text is escaped (`rich.markup.escape`), so `[red]` in a name stays as written.
"""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

from .. import report
from .layout import Col, figure, figures, header, table

ROLE_HEADERS = report.ROLE_LABELS
UNITLESS = report.COUNTS


def console(stderr: bool = False) -> Console:
    """A console for stdout (or stderr): the terminal's width, else $COLUMNS, else 80."""
    return Console(soft_wrap=False, highlight=False, stderr=stderr)


def notes(runs) -> list[str]:
    """Each assumption and warning once: plain when every run makes it, else after the methodologies that do."""
    said: dict[tuple[str, str], list[str]] = {}
    for run in runs:
        for label, items in (("assumption", run.assumptions), ("warning", run.warnings)):
            for item in items:
                said.setdefault((label, item), []).append(run.methodology)
    lines = []
    for (label, item), who in sorted(said.items(), key=lambda kv: kv[0][0]):
        style = "dim" if label == "assumption" else "yellow"
        prefix = "" if len(who) == len(runs) else ", ".join(who) + " "
        lines.append(f"[{style}]{escape(prefix)}{label}: {escape(item)}[/{style}]")
    return lines


def runs(runs, width: int = 80, details: bool = False, units: str = "si") -> list:
    """A scenario's summary, uncertainty, assumptions and warnings; with `details`, every result and input.
    A sweep is one table of points instead (`sweep`)."""
    if runs and runs[0].points is not None:
        return sweep(runs, width, units)
    if not runs:
        return []
    scenario = runs[0].scenario
    deployment = scenario.entities["deployment"]
    what = deployment.data.get("description", deployment.data.get("name", ""))
    out: list = [f"[bold]{escape(scenario.name)}[/bold]: deployment {escape(deployment.id)} — {escape(what)}"]
    out += summary(runs, width, units)
    for run in runs:
        if run.uncertainty:
            out += spread(run, width, units)
    out += notes(runs)
    if details:
        for run in runs:
            out.append("")
            out += results(run, width, units)
            out += inputs(run, width)
    else:
        out.append("[dim]every result and input with its source: --details (-v)[/dim]")
    return out


def summary(runs, width: int, units: str = "si") -> list:
    """The headline table per request, and in total when the scenario covers more than one request."""
    out: list = []
    requests = runs[0].requests
    blocks = [("per request", False)] + ([(f"total, {report.requests_label(requests)}", True)] if requests != 1 else [])
    for title, total in blocks:
        rows, columns = report.summary_rows(runs, units, total)
        if not columns:
            continue
        cols = [Col("methodology", [r["methodology"] for r in rows], justify="left", style="bold")]
        for role, unit in columns:
            shown_unit = "" if unit in UNITLESS else unit
            cols.append(Col(header(ROLE_HEADERS.get(role, role), shown_unit), [figure(r.get(role)) for r in rows]))
        out += table(f"{runs[0].scenario.name}: {title}", cols, width)
    return out


def spread(run, width: int, units: str = "si") -> list:
    """The headline results' p5, p50, p95 and mean, and the inputs that drive them."""
    u = run.uncertainty
    names = [n for n in report.shown_results(run) if n in u["results"]]
    rows = [r for r in report.result_rows(run, figures, units) if r["name"] in names]
    cols = [Col("result", [r["name"] for r in rows], justify="left", style="bold"),
            Col("unit", [r["unit"] for r in rows], justify="left")]  # fmt: skip
    cols += [Col(key, [r[key] for r in rows], drop=1 if key == "mean" else 0) for key in report.SPREAD_COLUMNS]
    title = f"{run.methodology}: uncertainty, {u['samples']:,} samples, seed {u['seed']}"
    out = table(title, cols, width, hint="--format csv has every value")
    drivers = [r for r in report.sensitivity_rows(run) if r["result"] in names]
    if drivers:
        out += table("", [Col("result", [r["result"] for r in drivers], justify="left"),
                          Col("drivers (rank correlation)", [r["drivers (rank correlation)"] for r in drivers],
                              justify="left", wrap=True, min_width=60)], width)  # fmt: skip
    return out


def results(run, width: int, units: str = "si") -> list:
    """Every result of a run: value, unit, total, spread, description (left out first when narrow)."""
    rows = report.result_rows(run, figures, units)
    cols = [Col("result", [r["name"] for r in rows], justify="left", style="bold"),
            Col("value", [r["value"] for r in rows]),
            Col("unit", [r["unit"] for r in rows], justify="left")]  # fmt: skip
    if run.requests != 1 and run.totals():
        cols.append(Col(header("total", report.requests_label(run.requests)), [r["total"] for r in rows]))
    if run.uncertainty:
        cols += [Col(k, [r[k] for r in rows], drop=1 + (k == "mean")) for k in report.SPREAD_COLUMNS]
    cols.append(Col("description", [r["description"] for r in rows], justify="left", wrap=True, min_width=40,
                    drop=3))  # fmt: skip
    title = f"{run.scenario.name} — {run.title} ({run.methodology} {run.version})"
    return table(title, cols, width, hint="--format markdown has them all")


def inputs(run, width: int) -> list:
    """Every input of a run with its value, unit and where it came from (the citations: --format json)."""
    rows = report.input_rows(run, figures)
    cols = [Col("input", [r["name"] for r in rows], justify="left"),
            Col("value", [r["value"] for r in rows]),
            Col("unit", [r["unit"] for r in rows], justify="left", wrap=True, min_width=11),
            Col("source", [_where(r["source"]) for r in rows], justify="left", wrap=True, min_width=60)]  # fmt: skip
    return table(f"{run.methodology}: inputs (their citations: --format json)", cols, width)


def _where(source: str) -> str:
    """'catalogs/models.yaml:260: llama.total_params_b; cite' -> the file:line on one line, what on the next."""
    where = source.split("; ", 1)[0]
    file, sep, what = where.partition(": ")
    return f"{file}\n{what}" if sep and ":" in file else where


def _result_header(column: str, names: list[str], role: str = "") -> str:
    """'scope3.E [Wh]' -> 'E\\nWh' (or its role: 'energy\\nWh'); the methodology stays when another has a
    result of the same name."""
    label, _, unit = column.partition(" [")
    methodology, _, name = label.rpartition(".")
    name = role or name
    shown = f"{methodology} {name}" if names.count(name) > 1 and methodology else name
    unit = unit.rstrip("]")
    return header(shown, "" if unit in UNITLESS else unit)


def _in_units(rows: list[dict], columns: list[str], units: str) -> tuple[list[dict], list[str]]:
    """Rows whose `name [unit]` columns are converted to the unit system `units` (report.shown_unit)."""
    renamed = {}
    for c in columns:
        label, bracket, unit = c.partition(" [")
        shown, factor = report.shown_unit(unit.rstrip("]"), units) if bracket else ("", 1.0)
        renamed[c] = (f"{label} [{shown}]" if bracket else c, factor)
    out = [{renamed[c][0]: (v * renamed[c][1] if isinstance(v, float) else v) for c, v in r.items()} for r in rows]
    return out, [renamed[c][0] for c in columns]


def _role(column: str, runs) -> str:
    """The headline role ('energy', ...) of a `methodology.name [unit]` column, or ''."""
    methodology, _, name = column.partition(" [")[0].partition(".")
    headline = next((r.method.headline for r in runs if r.methodology == methodology and r.method), {})
    return next((role for role, n in headline.items() if n == name), "")


DROP_LEVEL = {"energy": 0, "emissions": 0, "duration": 1, "water": 2}  # a sweep's columns give way: memory first


def sweep(runs, width: int = 80, units: str = "si") -> list:
    """A sweep: one row per point, the swept values, then each methodology's headline results."""
    rows, columns = report.sweep_rows(runs, every_result=False)
    roles = [_role(c, runs) for c in columns]
    rows, columns = _in_units(rows, columns, units)
    names = [role or c.partition(" [")[0].rpartition(".")[2] for c, role in zip(columns, roles, strict=True)]
    cols = []
    for c, role in zip(columns, roles, strict=True):
        numeric = isinstance(rows[0][c], (int, float))
        cells = [figure(r[c]) if isinstance(r[c], float) else str(r[c]) for r in rows]
        if c == "point":
            cols.append(Col("point", cells, drop=4))
        elif "." in c and c not in runs[0].points:
            shown = _result_header(c, names, ROLE_HEADERS.get(role, role))
            cols.append(Col(shown, cells, drop=DROP_LEVEL.get(role, 3), name=c))
        else:
            cols.append(Col(c, cells, justify="right" if numeric else "left"))
    out = table(f"{runs[0].scenario.name}: sweep of {len(rows)} points", cols, width,
                hint="--format csv has every result")  # fmt: skip
    return out + notes(runs)


def comparison(result, width: int = 80) -> list:
    """Methodologies side by side: one column of values each, then each one's ratio to the first."""
    rows, columns = report.comparison_rows(result, figure), report.comparison_columns(result)
    cols = [Col("quantity", [r["quantity"] for r in rows], justify="left", wrap=True, min_width=16)]
    first = columns.index("unit")
    for c in columns[1:first]:  # a sweep: the swept values of each row's point
        cols.append(Col(c, [r[c] for r in rows], justify="left", name=c))
    cols.append(Col("unit", [r["unit"] for r in rows], justify="left"))
    for c in columns[first + 1 :]:
        ratio = " / " in c
        cols.append(Col(c.replace(" / ", "\n/ ") if ratio else c, [r[c] for r in rows], drop=1 if ratio else 0,
                        name=c))  # fmt: skip
    title = f"{result.scenario.name}: " + " vs ".join(result.methodologies)
    return table(title, cols, width, hint="--format csv has them")


def memory(rows: list[dict], unit: str, hardware: str, width: int = 80) -> list:
    table_rows, columns = report.memory_matrix(rows, "_gib" if unit == "GiB" else "_gb", unit)
    cols = [Col("model", [r["model"] for r in table_rows], justify="left", wrap=True, min_width=14),
            Col("params\nB", [r["params (B)"] for r in table_rows], name="params")]  # fmt: skip
    cols += [Col(c, [r[c] for r in table_rows]) for c in columns[2:]]
    return table(f"memory on {hardware}, {unit} / accelerators needed", cols, width)


def validation(rows: list[dict], width: int = 80) -> list:
    """A table per dataset: its breakdowns (all, then per accelerator, family, precision), each with the
    count, the median ratio predicted / measured and the mean absolute percentage error."""
    out: list = []
    datasets = list(dict.fromkeys((r["dataset"], r["quantity"]) for r in rows))
    for dataset, quantity in datasets:
        mine = [r for r in rows if (r["dataset"], r["quantity"]) == (dataset, quantity)]
        groups = [r["group"] for r in mine]
        sections = [i + 1 for i in range(len(mine) - 1) if groups[i] != groups[i + 1]]
        cols = [Col("group", [r["group"] if r["group"] == "all" else f"{r['group']}: {r['value']}" for r in mine],
                    justify="left", wrap=True, min_width=30),
                Col("n", [f"{r['count']:,}" for r in mine]),
                Col("median\npred / meas", [f"{r['median_ratio']:.3g}" for r in mine]),
                Col("MAPE", [f"{r['mape']:.1%}" for r in mine])]  # fmt: skip
        out += table(f"{dataset}: {quantity}", cols, width, sections=sections)
    return out


def _batch_level(column: str, first: str) -> int:
    """How soon a batch column gives way: the `first` methodology's energy and emissions never, other
    methodologies' next, then water, then durations (a batch summary names results, not their roles)."""
    methodology, _, name = column.partition(" [")[0].partition(".")
    if name == "E" or "energy" in name or "emissions" in name:
        return 0 if methodology == first else 1
    return 2 if "water" in name or "h2o" in name else 3


def batch(data: dict, width: int = 80, units: str = "si") -> list:
    """A batch's totals, then a row per --by group; columns: requests and the headline results that add up."""
    skipped = f", {data['skipped']:,} bad rows skipped" if data["skipped"] else ""
    title = f"{data['log']}: {data['rows']:,} rows, {data['requests']:,.6g} requests{skipped} (base {data['scenario']})"
    rows, columns = report.batch_rows(data, show=float)
    rows, columns = _in_units(rows, columns, units)
    rows = [{c: figure(v) if isinstance(v, float) else v for c, v in r.items()} for r in rows]
    names = [c.partition(" [")[0].rpartition(".")[2] for c in columns]
    results = [c for c in columns if c not in data["by"] and c != "requests"]
    first = next((c.partition(".")[0] for c in results if _batch_level(c, c.partition(".")[0]) == 0), "")
    cols = []
    for c in columns:
        cells = [str(r.get(c, "")) for r in rows]
        if c in data["by"]:
            cols.append(Col(c, cells, justify="left", wrap=True, min_width=16))
        elif c == "requests":
            cols.append(Col(c, cells))
        else:
            cols.append(Col(_result_header(c, names), cells, drop=_batch_level(c, first), name=c))
    out = table(title, cols, width, sections=[1] if len(rows) > 1 else [], hint="--format csv has them")
    if "sessions" not in data:
        return out
    from ..batchsummary import session_rows

    rows, columns = session_rows(data, figure)
    cols = [Col(c, [str(r.get(c, "")) for r in rows], justify="left" if c == "per session" else "right",
                wrap=c == "per session", min_width=20) for c in columns]  # fmt: skip
    return out + table("sessions: totals per session", cols, width, hint="--format json has them")
