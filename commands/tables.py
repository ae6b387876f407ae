"""`impact memory`, `impact validate` and `impact batch`: tables over many models, datasets or requests."""

from __future__ import annotations

import click

from ..engine import open_tree
from .common import (
    emit,
    format_option,
    optimization_option,
    progress,
    reports_errors,
    root_option,
    set_option,
    units_option,
)


@click.command("memory")
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
@format_option()
@root_option
@reports_errors
def memory_command(models, precisions, hardware, context, unit, fmt, root):
    """Memory of MODELs (default: every catalog model) at each precision: weights, inference memory
    (weights x overhead, plus the KV cache of --context tokens) and how many --hardware accelerators hold it."""
    from ..engine.memory_table import memory_table, to_gib

    rows = memory_table(open_tree(root), models, precisions, hardware, context)
    emit(fmt, "memory", to_gib(rows) if unit == "GiB" else rows, unit=unit, hardware=hardware)


@click.command("validate")
@click.option(
    "--plot",
    "plot_path",
    metavar="FILE.png",
    help="Also draw predicted against measured on log axes (needs the plot extra: matplotlib).",
)
@click.option(
    "--group",
    "group_kinds",
    multiple=True,
    type=click.Choice(["accelerator", "family", "precision", "engine", "load"]),
    help="Only these breakdowns (repeatable). Default: all.",
)
@click.option(
    "--methodology",
    "methodologies",
    multiple=True,
    metavar="NAME",
    help="Validate these methodologies (repeatable). Default: scope3 and serving.",
)
@format_option(["table", "json", "csv"])
@root_option
@reports_errors
def validate_command(plot_path, group_kinds, methodologies, fmt, root):
    """Compare predictions with measurements. scope3: TensorRT-LLM throughput (held out by model), first-token
    latency against t_in, ML.ENERGY GPU energy per request and per token, and seed 002's single-request decode
    speeds. serving: every result its calibration compares (throughput, first-token latency, decode speed, ML.ENERGY
    energy, inter-token latency and power), each row predicted by a fit that left its whole model out. Per dataset
    and group: count, median ratio predicted / measured, mean absolute percentage error."""
    from ..engine.validate import datasets, plot, require_matplotlib, summary

    if plot_path:
        require_matplotlib(plot_path)  # fail before computing, not after
    data = datasets(open_tree(root), tuple(methodologies) or ("scope3", "serving"))
    rows = [r for r in summary(data) if r["group"] == "all" or not group_kinds or r["group"] in group_kinds]
    if plot_path:
        plot(data, plot_path)
    emit(fmt, "validation", rows, unusable={d.name: d.unusable for d in data})


@click.command("batch")
@click.argument("log", metavar="LOG")
@click.option("--scenario", "scenario", required=True, metavar="BASE.yaml",
              help="The base scenario; the log's columns override it row by row.")  # fmt: skip
@click.option("--by", "by", multiple=True, metavar="COLUMN", help="Break the totals down by this column (repeatable).")
@click.option("--out", "out", metavar="FILE.csv", help="Write one result row per request (its line and results).")
@click.option("--result", "results", multiple=True, metavar="NAME",
              help="A result to write with --out (repeatable; default: the headline results).")  # fmt: skip
@click.option("--skip-bad-rows", is_flag=True, help="Count and list bad rows instead of stopping at the first.")
@click.option("--ignore", "ignore", multiple=True, metavar="COLUMN", help="A log column to pass over (repeatable).")
@click.option("--log-format", "log_format", metavar="FORMAT",
              help="csv, jsonl, parquet, otel, litellm, openai-usage, or a logformat FILE.yaml "
                   "(default: by extension).")  # fmt: skip
@click.option("--map", "mapping", metavar="MAPPING.yaml", help="A logformat file mapping the log's columns.")
@click.option("--sessions", is_flag=True, help="Add the distribution of per-session totals (a session column).")
@click.option("--grid-profile", "grid_profile", metavar="FILE.csv",
              help="Hourly grid intensity CSV (hour, grid_gco2e_per_kwh, region) by row timestamp.")  # fmt: skip
@click.option("--grid-fallback", "grid_fallback", type=click.Choice(["error", "annual"]), default="error",
              show_default=True, help="Outside the profile: a bad row, or the annual mean.")  # fmt: skip
@click.option("--grid-live", "grid_live", metavar="PROVIDER",
              help="Hourly grid intensity from electricitymaps or watttime (key from the environment).")  # fmt: skip
@set_option
@click.option("--methodology", "methodologies", multiple=True, metavar="NAME", help="Run this methodology instead.")
@optimization_option
@format_option()
@units_option
@root_option
@reports_errors
def batch_command(log, scenario, by, out, results, skip_bad_rows, ignore, log_format, mapping, sessions,
                  grid_profile, grid_fallback, grid_live, sets, methodologies, optimizations, fmt, units,
                  root):  # fmt: skip
    """Evaluate every request of LOG (CSV or JSON Lines, one request per row) against a base scenario.

    Columns are scenario keys (model, hardware, location, precision, ...), request fields (input_tokens,
    output_tokens, cached_input_tokens, reasoning_tokens, gpus), any input or formula name, `session`,
    `timestamp`, or `requests` (a row's weight). --log-format or --map reads other formats (OpenTelemetry
    spans, LiteLLM spend logs, Parquet, a mapping file). Prints the totals, and with --by a breakdown. Memory
    stays flat: the log is read in chunks.
    """
    from ..engine.batch import run_batch, summary

    tree = open_tree(root)
    with progress() as report_progress:
        batch = run_batch(log, scenario, tree, methodologies=list(methodologies) or None, set=list(sets),
                          optimizations=list(optimizations), by=by, ignore=ignore, out=out, results=results,
                          skip_bad_rows=skip_bad_rows, progress=report_progress, log_format=log_format,
                          mapping=mapping, sessions=sessions, grid_profile=grid_profile,
                          grid_fallback=grid_fallback == "annual", grid_live=grid_live)  # fmt: skip
    data = summary(batch)
    emit(fmt, "batch", data, units=units)
    for line in data["bad_rows"]:
        click.echo(f"skipped: {line}", err=True)
    if data["skipped"] > len(data["bad_rows"]):
        click.echo(f"skipped: ... and {data['skipped'] - len(data['bad_rows'])} more bad rows", err=True)
    if getattr(batch, "grid_fallbacks", 0):
        outside = grid_profile or batch.profile.label
        click.echo(f"warning: {batch.grid_fallbacks:,} requests outside {outside} were charged their region's "
                   "annual grid intensity", err=True)  # fmt: skip
    live = batch.profile if getattr(batch.profile, "provider", None) is not None else None
    if live is not None:
        click.echo(f"{live.label}: {live.fetched + live.cached:,} hourly readings ({live.cached:,} from the cache)",
                   err=True)  # fmt: skip
        if live.skipped:
            shown = ", ".join(sorted(map(str, live.skipped))[:5]) + (", ..." if len(live.skipped) > 5 else "")
            click.echo(f"warning: {live.provider.name} has no zone for {shown} (grid_zones in the regions catalog): "
                       "their requests kept the annual grid intensity", err=True)  # fmt: skip
    if out:
        click.echo(f"wrote {out}", err=True)
