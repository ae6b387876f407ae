"""The `impact` command: a thin Click front end over the engine, rendered with rich.

This is the only module that prints or exits. Bad input (an `ImpactError`) becomes its one-line
messages on stderr and exit status 1, with no traceback; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import click

from . import __version__
from .engine import ImpactError, open_tree, report
from .engine import run as run_scenario
from .engine.errors import Location, Problem, suggest

FORMATS = ["table", "json", "csv", "markdown"]
DEFAULT_SCENARIO = "scenarios/chatbot-llama70b-h100.yaml"
root_option = click.option(
    "--root",
    type=click.Path(file_okay=False),
    envvar="IMPACT_ROOT",
    help="Methodology tree (formulas/, catalogs/) to use instead of the shipped one. Also $IMPACT_ROOT.",
)

set_option = click.option(
    "--set", "sets", multiple=True, metavar="NAME=VALUE",
    help="Override any input or formula by name (repeatable), e.g. --set PUE=1 --set P_gpu='0.7 kW'.",
)  # fmt: skip
optimization_option = click.option(
    "--optimization", "optimizations", multiple=True, metavar="NAME",
    help="Apply this optimization (formulas/optimizations/) after the scenario's own (repeatable).",
)  # fmt: skip


def reports_errors(command):
    """Turn ImpactError into its messages on stderr and exit status 1."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except ImpactError as exc:
            click.echo(exc.render(), err=True)
            sys.exit(1)

    return wrapper


def _console(table=None):
    """A console for stdout; with `table`, wide enough for its unwrapped columns (numbers are never cropped)."""
    from rich.console import Console

    console = Console(soft_wrap=False, highlight=False)
    if table is not None:
        needed = sum(col.min_width + 3 for col in table.columns) + 1
        if needed > console.width:
            console = Console(soft_wrap=False, highlight=False, width=needed)
    return console


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="impact", message="%(prog)s %(version)s")
def main():
    """Estimate the duration, energy, emissions, water and memory of LLM inference.

    The methodology is data: formulas in formulas/*.yaml, facts in catalogs/*.yaml, each with its source.
    """


@main.command("run")
@click.argument("scenario", required=False)
@set_option
@click.option(
    "--methodology",
    "methodologies",
    multiple=True,
    metavar="NAME",
    help="Run this methodology instead of the scenario's (repeatable).",
)
@optimization_option
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True, help="Output format.")
@click.option(
    "--explain",
    "with_explain",
    is_flag=True,
    help="With --format json: add each formula's expression with its values substituted (see impact explain).",
)
@click.option("--samples", type=click.IntRange(min=1), metavar="N",
              help="Draw N samples of every uncertain input (range, distribution): p5, p50, p95, mean.")  # fmt: skip
@click.option("--seed", type=int, metavar="S", help="Seed of the random draws, for reproducible --samples.")
@click.option("--plot", "plot_path", metavar="FILE.png", help="A sweep: draw --y against --x (matplotlib extra).")
@click.option("--x", "x_name", metavar="NAME", help="With --plot: the swept key on the x axis (default: the first).")
@click.option("--y", "y_name", metavar="RESULT", help="With --plot: the result drawn, NAME or methodology.NAME.")
@root_option
@reports_errors
def run_command(scenario, sets, methodologies, optimizations, fmt, with_explain, samples, seed, plot_path, x_name,
                y_name, root):  # fmt: skip
    """Evaluate SCENARIO (a YAML file; the shipped chatbot example when omitted).

    Prints every result with its unit, and every input with its value, unit and source (file:line of the
    catalog entry, scenario line, --set or default). A scenario with a sweep: prints one row per point.
    """
    tree = open_tree(root)
    if scenario is None:
        scenario = str(tree.root / DEFAULT_SCENARIO)
    runs = run_scenario(
        scenario,
        tree=tree,
        methodologies=list(methodologies) or None,
        set=list(sets),
        optimizations=list(optimizations),
        samples=samples,
        seed=seed,
    )
    if plot_path:
        from .engine.sweep import plot

        plot(runs, plot_path, x_name, y_name)
    to_json = functools.partial(report.to_json, explain=with_explain)
    printer = _print_sweep if runs and runs[0].points is not None else _print_tables
    _emit(fmt, runs, {"json": to_json, "csv": report.to_csv, "markdown": report.to_markdown}, printer)
    if plot_path:
        click.echo(f"wrote {plot_path}", err=True)


def _print_sweep(runs):
    from rich.markup import escape
    from rich.table import Table

    rows, columns = report.sweep_rows(runs, every_result=False)
    table = Table(title=f"{runs[0].scenario.name}: sweep of {len(rows)} points (every result: --format csv)",
                  title_justify="left")  # fmt: skip
    cells = {c: [report.number(r[c]) if isinstance(r[c], float) else str(r[c]) for r in rows] for c in columns}
    for c in columns:
        header = escape(c.split(".", 1)[1] if "." in c else c)  # methodology.result [unit]: drop the methodology
        _fixed(table, header, cells[c], justify="right" if isinstance(rows[0][c], (int, float)) else "left")
    for i in range(len(rows)):
        table.add_row(*(escape(cells[c][i]) for c in columns))
    console = _console(table)
    console.print(table)
    for run in runs:
        for label, items, style in (("assumption", run.assumptions, "dim"), ("warning", run.warnings, "yellow")):
            for item in items:
                console.print(f"[{style}]{run.methodology} {label}: {escape(item)}[/{style}]")


def _emit(fmt, data, renderers, print_table):
    """Write `data` as text in format `fmt`, or as rich tables."""
    if fmt in renderers:
        click.echo(renderers[fmt](data), nl=False)
    else:
        print_table(data)


def _print_tables(runs):
    from rich.markup import escape
    from rich.table import Table

    console = _console()
    if runs:
        scenario = runs[0].scenario
        deployment = scenario.entities["deployment"]
        what = deployment.data.get("description", deployment.data.get("name", ""))
        console.print(f"[bold]{escape(scenario.name)}[/bold]: deployment {escape(deployment.id)} — {escape(what)}")
    for run in runs:
        title = f"{escape(run.scenario.name)} — {escape(run.title)} ({escape(run.methodology)} {run.version})"
        results = Table(title=title, title_justify="left")
        rows = report.result_rows(run)
        totals = run.requests != 1 and bool(run.totals())
        _fixed(results, "result", [r["name"] for r in rows], style="bold")
        _fixed(results, "value", [r["value"] for r in rows], justify="right")
        _fixed(results, "unit", [r["unit"] for r in rows])
        if totals:
            _fixed(results, f"total x {run.requests:g}", [r["total"] for r in rows], justify="right")
        spread = report.SPREAD_COLUMNS if run.uncertainty else ()
        for key in spread:
            _fixed(results, key, [r[key] for r in rows], justify="right")
        described = console.width >= 110  # on a narrow terminal the numbers come first
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
        console.print(results)
        if run.uncertainty:
            u = run.uncertainty
            sensitivity = Table(title=f"sensitivity: {u['samples']} samples, seed {u['seed']}", title_justify="left")
            sensitivity.add_column("result")
            sensitivity.add_column("drivers (rank correlation)")
            for row in report.sensitivity_rows(run):
                sensitivity.add_row(*map(escape, row.values()))
            console.print(sensitivity)
        inputs = Table(title="inputs", title_justify="left")
        rows = report.input_rows(run)
        _fixed(inputs, "input", [r["name"] for r in rows])
        _fixed(inputs, "value", [r["value"] for r in rows], justify="right")
        _fixed(inputs, "unit", [r["unit"] for r in rows])
        inputs.add_column("source (citations: --format json)", overflow="fold")
        for row in rows:
            where = row["source"].split("; ", 1)[0]
            inputs.add_row(*map(escape, (row["name"], row["value"], row["unit"], where)))
        console.print(inputs)
        for label, items, style in (("assumption", run.assumptions, "dim"), ("warning", run.warnings, "yellow")):
            for item in items:
                console.print(f"[{style}]{label}: {escape(item)}[/{style}]")
        console.print()


def _fixed(table, header, cells, **kwargs):
    """A column as wide as its widest cell, never wrapped: only free-text columns shrink."""
    width = max([len(header), *map(len, cells)])
    table.add_column(header, no_wrap=True, min_width=width, **kwargs)


@main.command("compare")
@click.argument("scenario", required=False)
@click.option(
    "--methodology",
    "methodologies",
    multiple=True,
    metavar="NAME",
    help="A methodology to compare (repeatable; the first is the baseline of the ratios). "
    "Default: every methodology that declares a headline energy.",
)
@set_option
@optimization_option
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@root_option
@reports_errors
def compare_command(scenario, methodologies, sets, optimizations, fmt, root):
    """Compare methodologies on SCENARIO: duration, energy per request and per 1k output tokens, emissions and
    water, one column per methodology, and the ratio of each to the first."""
    from .engine.compare import compare

    tree = open_tree(root)
    source = scenario or str(tree.root / DEFAULT_SCENARIO)
    result = compare(source, tree, list(methodologies) or None, list(sets), list(optimizations))
    renderers = {"json": report.comparison_json, "csv": report.comparison_csv, "markdown": report.comparison_markdown}
    _emit(fmt, result, renderers, _print_comparison)


def _print_comparison(result):
    from rich.markup import escape
    from rich.table import Table

    title = f"{escape(result.scenario.name)}: " + " vs ".join(result.methodologies)
    table = Table(title=title, title_justify="left")
    rows, columns = report.comparison_rows(result), report.comparison_columns(result)
    for column in columns:
        justify = "left" if column in ("quantity", "unit") else "right"
        _fixed(table, column, [r[column] for r in rows], justify=justify)
    for row in rows:
        table.add_row(*(escape(row[c]) for c in columns))
    _console().print(table)


@main.command("memory")
@click.argument("models", nargs=-1, metavar="[MODEL]...")
@click.option(
    "--precision",
    "precisions",
    multiple=True,
    metavar="ID",
    help="A precision column (repeatable). Default: fp32, fp16 (also BF16), int8, int4.",
)
@click.option(
    "--hardware",
    default="h100-sxm",
    show_default=True,
    metavar="ID",
    help="The accelerator whose memory sets how many are needed.",
)
@click.option(
    "--context",
    default=0,
    show_default=True,
    type=click.IntRange(min=0),
    metavar="TOKENS",
    help="Tokens of KV cache to hold besides the weights.",
)
@click.option(
    "--unit",
    type=click.Choice(["GB", "GiB"]),
    default="GB",
    show_default=True,
    help="GB = 1e9 bytes; GiB = 2**30 bytes (what many tables, seed 002's included, call GB).",
)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@root_option
@reports_errors
def memory_command(models, precisions, hardware, context, unit, fmt, root):
    """Memory of MODELs (default: every catalog model) at each precision: weights, inference memory
    (weights x overhead, plus the KV cache of --context tokens) and how many --hardware accelerators hold it."""
    import json

    from .engine.memory_table import memory_table, to_gib

    rows = memory_table(open_tree(root), models, precisions, hardware, context)
    suffix = "_gb"
    if unit == "GiB":
        rows, suffix = to_gib(rows), "_gib"
    if fmt == "json":
        click.echo(json.dumps({"unit": unit, "rows": rows}, indent=2))
    elif fmt == "csv":
        click.echo(report.plain_csv(rows), nl=False)
    else:
        table_rows, columns = report.memory_matrix(rows, suffix, unit)
        if fmt == "markdown":
            click.echo(report.markdown_table(table_rows, columns))
        else:
            _print_rows(f"memory on {hardware} ({unit}: total, then accelerators needed)", table_rows, columns)


def _print_rows(title, rows, columns, text_columns=("model",)):
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=escape(title), title_justify="left")
    for column in columns:
        justify = "left" if column in text_columns else "right"
        _fixed(table, column, [str(r[column]) for r in rows], justify=justify)
    for row in rows:
        table.add_row(*(escape(str(row[c])) for c in columns))
    _console().print(table)


@main.command("calibrate")
@click.option(
    "--data",
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="A benchmark table (kind: benchmarks) of your own measurements. Default: the shipped TensorRT-LLM table.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="Calibrations catalog to write. Default: catalogs/calibrations.yaml of the tree.",
)
@click.option("--id", "entry_id", default="default", show_default=True, help="Id of the fitted entry.")
@click.option("--dry-run", is_flag=True, help="Fit and report, write nothing.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@root_option
@reports_errors
def calibrate_command(data, out, entry_id, dry_run, fmt, root):
    """Fit beta_in and beta_out of t_hat = beta_in * t_in + beta_out * t_out on benchmark throughput, report the
    fit and its cross-validated error, and write the coefficients to a calibrations catalog."""
    import datetime
    import json
    import os
    import tempfile

    from .engine.calibrate import calibrate, catalog_text, prefers_per_precision

    tree = open_tree(root)
    fit = calibrate(tree, data)
    target = Path(out) if out else tree.root / "catalogs" / "calibrations.yaml"
    if not dry_run:
        text = catalog_text(fit, entry_id, datetime.date.today().isoformat())
        handle, temporary = tempfile.mkstemp(dir=target.parent, suffix=".yaml.tmp")
        try:  # write whole, then rename: nothing half-written
            with os.fdopen(handle, "w") as stream:
                stream.write(text)
            os.replace(temporary, target)
        finally:
            if os.path.exists(temporary):
                os.unlink(temporary)
    report_ = {k: v for k, v in fit.__dict__.items() if k != "dropped"}
    report_["unusable_rows"] = len(fit.dropped)
    report_["written"] = None if dry_run else str(target)
    if fmt == "json":
        click.echo(json.dumps({**report_, "dropped": fit.dropped}, indent=2))
        return
    lines = [
        f"fitted on {fit.rows} rows of {fit.data} ({fit.groups['model']} models, {fit.groups['accelerator']} "
        f"accelerators, {fit.groups['precision']} precisions); {len(fit.dropped)} rows unusable",
        f"beta_in = {fit.beta_in:.6g}, beta_out = {fit.beta_out:.6g}",
        f"R^2 (log durations) = {fit.r2_log:.3f}, MAPE = {fit.mape:.1%}",
        f"held-out MAPE: whole models left out {_percent(fit.cv_mape_by_model)}, whole accelerators left out "
        f"{_percent(fit.cv_mape_by_accelerator)}, per-precision betas (models left out) "
        f"{_percent(fit.cv_mape_per_precision)}",
    ]
    for precision, (b_in, b_out) in fit.per_precision.items():
        lines.append(f"  {precision}: beta_in = {b_in:.6g}, beta_out = {b_out:.6g}")
    used = "per-precision betas" if prefers_per_precision(fit) else "pooled betas"
    lines.append(f"using {used} (lower held-out error); " + ("nothing written" if dry_run else f"wrote {target}"))
    click.echo("\n".join(lines))


def _percent(value) -> str:
    return "n/a (a single group)" if value is None else f"{value:.1%}"


@main.command("estimate-params")
@click.option(
    "--provider",
    required=True,
    help="The provider whose price it is (as in the price table); 'any' uses the fit over all providers.",
)
@click.option("--price-in", type=float, metavar="USD", help="Input price, USD per million tokens.")
@click.option("--price-out", type=float, metavar="USD", help="Output price, USD per million tokens.")
@click.option("--model", "model_name", metavar="NAME", help="Take the prices of this model from the price table.")
@click.option(
    "--basis",
    type=click.Choice(["input", "output", "blend"]),
    default="input",
    show_default=True,
    help="Which price the regression uses (input predicts size best; blend = (3 x input + output) / 4).",
)
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@root_option
@reports_errors
def estimate_params_command(provider, price_in, price_out, model_name, basis, fmt, root):
    """Estimate a model's active parameter count from its API price (Scope3's per-provider log-log regression,
    inverse-variance combination, 95% interval; the upper bound is the conservative estimate)."""
    import json

    from .engine.estimate import check_provider, estimate, offers_for, price_of

    tree = open_tree(root)
    where = Location(None, path=f"--provider {provider}")
    if model_name:
        offers = offers_for(tree, provider, model_name, basis, where)
    else:
        price = price_of({"input_usd_per_1m": price_in, "output_usd_per_1m": price_out}, basis)
        if price is None:
            needed = {"input": "--price-in", "output": "--price-out", "blend": "--price-in and --price-out"}[basis]
            raise ImpactError(
                Problem(Location(None, path=f"--basis {basis}"), "no price given", f"{needed} or --model")
            )
        check_provider(tree, provider, where)
        offers = [(provider, price)]
    found = estimate(tree, offers, basis, where=where)
    if fmt == "json":
        out = {
            "provider": provider,
            "basis": basis,
            "point_b": found.point_b,
            "low_b": found.low_b,
            "high_b": found.high_b,
            "conservative_b": found.conservative_b,
            "predictions": found.predictions,
        }
        click.echo(json.dumps(out, indent=2))
        return
    click.echo(f"active parameters: {found.point_b:.3g}B (95% interval {found.low_b:.3g}B to {found.high_b:.3g}B)")
    click.echo(f"conservative estimate (upper bound, used by scenarios): {found.conservative_b:.3g}B")
    for p in found.predictions:
        click.echo(f"  {p['provider']}: ${p['price']:g}/M tokens ({basis}), {p['fit']} fit on {p['fit_rows']} models")


@main.command("validate")
@click.option(
    "--plot",
    "plot_path",
    type=click.Path(dir_okay=False),
    metavar="FILE.png",
    help="Also draw predicted against measured on log axes (needs the plot extra: matplotlib).",
)
@click.option(
    "--group",
    "group_kinds",
    multiple=True,
    type=click.Choice(["accelerator", "family", "precision"]),
    help="Only these breakdowns (repeatable). Default: all three.",
)
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True)
@root_option
@reports_errors
def validate_command(plot_path, group_kinds, fmt, root):
    """Compare predictions with measurements: TensorRT-LLM throughput (held out by model), first-token latency
    against t_in, ML.ENERGY GPU energy per request and per token, and seed 002's single-request decode speeds.
    Per dataset and group: count, median ratio predicted / measured, mean absolute percentage error."""
    import json

    from .engine.validate import datasets, plot, require_matplotlib, summary

    if plot_path:
        require_matplotlib(plot_path)  # fail before computing, not after
    data = datasets(open_tree(root))
    rows = [r for r in summary(data) if r["group"] == "all" or not group_kinds or r["group"] in group_kinds]
    if plot_path:
        plot(data, plot_path)
    if fmt == "json":
        click.echo(json.dumps({"rows": rows, "unusable": {d.name: d.unusable for d in data}}, indent=2))
    elif fmt == "csv":
        click.echo(report.plain_csv(rows), nl=False)
    else:
        shown = [{"dataset": f"{r['dataset']}: {r['quantity']}", "group": r["group"], "value": r["value"],
                  "n": str(r["count"]), "median pred/meas": f"{r['median_ratio']:.3g}", "MAPE": f"{r['mape']:.1%}"}
                 for r in rows]  # fmt: skip
        _print_rows(
            "validation (median ratio: predicted / measured)",
            shown,
            list(shown[0]),
            text_columns=("dataset", "group", "value"),
        )


@main.command("batch")
@click.argument("log", metavar="LOG")
@click.option("--scenario", "scenario", required=True, metavar="BASE.yaml",
              help="The base scenario; the log's columns override it row by row.")  # fmt: skip
@click.option("--by", "by", multiple=True, metavar="COLUMN", help="Break the totals down by this column (repeatable).")
@click.option("--out", "out", metavar="FILE.csv", help="Write one result row per request (its line and results).")
@click.option("--result", "results", multiple=True, metavar="NAME",
              help="A result to write with --out (repeatable; default: the headline results).")  # fmt: skip
@click.option("--skip-bad-rows", is_flag=True, help="Count and list bad rows instead of stopping at the first.")
@click.option("--ignore", "ignore", multiple=True, metavar="COLUMN", help="A log column to pass over (repeatable).")
@set_option
@click.option("--methodology", "methodologies", multiple=True, metavar="NAME", help="Run this methodology instead.")
@optimization_option
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@root_option
@reports_errors
def batch_command(log, scenario, by, out, results, skip_bad_rows, ignore, sets, methodologies, optimizations, fmt,
                  root):  # fmt: skip
    """Evaluate every request of LOG (CSV or JSON Lines, one request per row) against a base scenario.

    Columns are scenario keys (model, hardware, location, precision, ...), request fields (input_tokens,
    output_tokens, gpus), any input or formula name, or `requests` (a row's weight). Prints the totals, and
    with --by a breakdown. Memory stays flat: the log is read in chunks.
    """
    from .engine.batch import run_batch, summary

    tree = open_tree(root)
    with _progress() as progress:
        batch = run_batch(log, scenario, tree, methodologies=list(methodologies) or None, set=list(sets),
                          optimizations=list(optimizations), by=by, ignore=ignore, out=out, results=results,
                          skip_bad_rows=skip_bad_rows, progress=progress)  # fmt: skip
    data = summary(batch)
    _emit(fmt, data, {"json": report.batch_json, "csv": report.batch_csv, "markdown": report.batch_markdown},
          _print_batch)  # fmt: skip
    for line in data["bad_rows"]:
        click.echo(f"skipped: {line}", err=True)
    if data["skipped"] > len(data["bad_rows"]):
        click.echo(f"skipped: ... and {data['skipped'] - len(data['bad_rows'])} more bad rows", err=True)
    if out:
        click.echo(f"wrote {out}", err=True)


class _progress:
    """A rich progress bar on stderr when it is a terminal; a no-op callback otherwise."""

    def __enter__(self):
        self.bar = None
        if sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

            self.bar = Progress("reading", BarColumn(), DownloadColumn(), TimeRemainingColumn(),
                                console=Console(stderr=True), transient=True)  # fmt: skip
            self.bar.start()
            self.task = self.bar.add_task("log", total=None)
        return self._update

    def _update(self, done, size):
        if self.bar is not None:
            self.bar.update(self.task, completed=done, total=size)

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.stop()
        return False


def _print_batch(data):
    from rich.markup import escape
    from rich.table import Table

    skipped = f", {data['skipped']:,} bad rows skipped" if data["skipped"] else ""
    title = f"{data['log']}: {data['rows']:,} rows, {data['requests']:,.6g} requests{skipped} (base {data['scenario']})"
    rows, columns = report.batch_rows(data)
    table = Table(title=escape(title), title_justify="left")
    for c in columns:
        _fixed(table, escape(c), [str(r.get(c, "")) for r in rows], justify="left" if c in data["by"] else "right")
    for r in rows:
        table.add_row(*(escape(str(r.get(c, ""))) for c in columns))
    _console(table).print(table)


@main.command("explain")
@click.argument("scenario")
@click.argument("result")
@click.option("--methodology", default=None, metavar="NAME", help="The methodology whose result it is.")
@set_option
@optimization_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@root_option
@reports_errors
def explain_command(scenario, result, methodology, sets, optimizations, fmt, root):
    """The derivation tree of RESULT in SCENARIO: each formula with its expression and the values substituted,
    each input with its value, unit and source (catalog file and line, scenario line, --set, default)."""
    import json

    from .engine.explain import explain, pick

    tree = open_tree(root)
    runs = run_scenario(scenario, tree=tree, methodologies=[methodology] if methodology else None, set=list(sets),
                        optimizations=list(optimizations))  # fmt: skip
    chosen = pick(runs, result, methodology, Location(None, path=f"{scenario} {result}"))
    found = explain(chosen, result)
    if fmt == "json":
        click.echo(json.dumps({"methodology": chosen.methodology, "provenance": chosen.provenance, "tree": found},
                              indent=2))  # fmt: skip
        return
    from rich.tree import Tree as RichTree

    console = _console()
    root_node = RichTree(_explain_label(found))
    _explain_children(root_node, found)
    console.print(root_node)


def _explain_label(node) -> str:
    from rich.markup import escape

    value = f"{node['value']:.6g} {node['unit']}".rstrip()
    if node["kind"] != "formula":
        return f"[bold]{escape(node['name'])}[/bold] = {escape(value)}  [dim]{escape(node['source'])}[/dim]"
    if node.get("repeated"):
        return f"[bold]{escape(node['name'])}[/bold] = {escape(value)}  [dim](derived above)[/dim]"
    return (f"[bold]{escape(node['name'])}[/bold] = {escape(node['expr'])} = {escape(node['substituted'])} = "
            f"{escape(value)}  [dim]{escape(node['where'])}[/dim]")  # fmt: skip


def _explain_children(branch, node) -> None:
    for child in node.get("reads", []):
        sub = branch.add(_explain_label(child))
        _explain_children(sub, child)


@main.group()
def catalog():
    """Browse the catalogs (accelerators, servers, models, regions, precisions, deployments, calibrations)."""


def _catalog_table(tree, kind):
    tables = tree.catalogs()
    if kind not in tables:
        raise ImpactError(
            Problem(
                Location(None, path=f"catalog {kind}"),
                f"unknown catalog '{kind}'",
                "one of " + ", ".join(sorted(tables)),
                suggest(kind, tables),
            )
        )
    return tables[kind]


@catalog.command("list")
@click.argument("kind")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@root_option
@reports_errors
def catalog_list(kind, fmt, root):
    """List the entries of catalog KIND, one line each."""
    import json

    from rich.markup import escape
    from rich.table import Table

    entries = _catalog_table(open_tree(root), kind)
    if fmt == "json":
        click.echo(json.dumps({eid: e.data.get("name", "") for eid, e in entries.items()}, indent=2))
        return
    table = Table(title=f"{kind} ({len(entries)})", title_justify="left")
    table.add_column("id", style="bold")
    table.add_column("name")
    table.add_column("file")
    for eid, entry in entries.items():
        table.add_row(escape(eid), escape(str(entry.data.get("name", ""))), f"{entry.file}:{entry.loc().line}")
    _console().print(table)


@catalog.command("show")
@click.argument("kind")
@click.argument("entry_id", metavar="ID")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@root_option
@reports_errors
def catalog_show(kind, entry_id, fmt, root):
    """Show every field of entry ID of catalog KIND, with its unit and source."""
    import json

    from rich.markup import escape
    from rich.table import Table

    tree = open_tree(root)
    _catalog_table(tree, kind)
    entry = tree.entry(kind, entry_id, Location(None, path=f"catalog {kind} {entry_id}"))
    if fmt == "json":
        click.echo(json.dumps(entry.data, indent=2))
        return
    units = tree.schemas.field_units(kind)
    table = Table(title=f"{kind} {entry_id} ({entry.file}:{entry.loc().line})", title_justify="left")
    for column in ("field", "value", "unit", "source"):
        table.add_column(column, overflow="fold")
    for field, value in entry.data.items():
        if field in ("source", "field_sources", "notes"):
            continue
        cite = entry.cite(field) if field in (entry.data.get("field_sources") or {}) else ""
        table.add_row(escape(field), escape(str(value)), escape(units.get(field, "")), escape(cite))
    console = _console()
    console.print(table)
    console.print(f"source: {escape(entry.data['source'])}")
    if entry.data.get("notes"):
        console.print(f"notes: {escape(entry.data['notes'])}")


@main.command("methodologies")
@root_option
@reports_errors
def methodologies_command(root):
    """List the installed methodologies and optimizations with a line of description each."""
    tree = open_tree(root)
    for name, method in sorted(tree.methodologies().items()):
        default = " (default)" if method.default else ""
        click.echo(f"{name} {method.version}{default}: {method.description} [{method.file}]")
    for name, opt in sorted(tree.optimizations().items()):
        covers = ", ".join(opt.applies_to)
        click.echo(f"optimization {name} {opt.version} (for {covers}): {opt.description} [{opt.file}]")


@main.command("diff")
@click.argument("base")
@click.argument("head", required=False)
@click.option(
    "--fail-above",
    type=click.FloatRange(min=0),
    metavar="PCT",
    help="Exit 1 when any result changes by more than PCT percent (or cannot be compared), after the report.",
)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text", show_default=True,
    help="markdown: a summary, a table and the reasons, for a pull-request comment.",
)  # fmt: skip
@root_option
@reports_errors
def diff_command(base, head, fail_above, fmt, root):
    """Compare every scenario's results under two methodology trees, BASE and HEAD (each a directory or a git
    revision; HEAD defaults to the working tree: --root, else the current directory when it holds formulas/
    and catalogs/, else the shipped tree). Prints old and new values and the relative change, largest first,
    and why: the formulas, inputs, constants, catalog values and calibration coefficients that differ, each
    with the results it moves."""
    from .engine import diff_report
    from .engine.diff import diff

    found = diff(base, head, root)
    render = {"text": diff_report.to_text, "json": diff_report.to_json, "markdown": diff_report.to_markdown}[fmt]
    click.echo(render(found, fail_above), nl=False)
    if fail_above is not None and found.exceeding(fail_above):
        sys.exit(1)


@main.command("check")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json", "markdown", "github"]), default="text", show_default=True,
    help="github: workflow commands (::error file=...,line=...::), annotations on a pull request's diff.",
)  # fmt: skip
@click.option(
    "--update-golden",
    is_flag=True,
    help="Write each scenario's results to scenarios/golden/<scenario>.json (keeping their tolerances) "
    "instead of comparing; review the diff before committing.",
)
@click.option("--verbose", "-v", is_flag=True, help="Also show notes: expectations met, golden drift within tolerance.")
@root_option
@reports_errors
def check_command(fmt, update_golden, verbose, root):
    """Check a methodology tree: every formulas, catalog and scenario file against its schema, the formula
    graphs, units (dimensions and conversion factors) and binding scales, each scenario's expect: entries and
    its golden results. Exit 0 when clean (warnings allowed), 1 on any error."""
    from .engine.check import check, render

    found = check(open_tree(root), update_golden=update_golden)
    click.echo(render(found, fmt, verbose), nl=False)
    if not found.ok:
        sys.exit(1)


if __name__ == "__main__":  # pragma: no cover
    main()
