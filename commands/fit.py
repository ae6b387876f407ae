"""`impact calibrate` and `impact estimate-params`: fit the methodology's constants to published data."""

from __future__ import annotations

from pathlib import Path

import click

from ..engine import ImpactError, open_tree
from ..engine.errors import Location, Problem
from ..engine.render import text as text_report
from ..engine.safefile import write_text
from .common import reports_errors, root_option


@click.command("calibrate")
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

    from ..engine.calibrate import calibrate, catalog_text, prefers_per_precision

    tree = open_tree(root)
    fit = calibrate(tree, data)
    target = Path(out) if out else tree.root / "catalogs" / "calibrations.yaml"
    if not dry_run:
        text = catalog_text(fit, entry_id, datetime.date.today().isoformat())
        write_text(target, text, Location(None, path=f"--out {target}"))
    report_ = {k: v for k, v in fit.__dict__.items() if k != "dropped"}
    report_["unusable_rows"] = len(fit.dropped)
    report_["written"] = None if dry_run else str(target)
    if fmt == "json":
        click.echo(json.dumps({**report_, "dropped": fit.dropped}, indent=2))
        return
    click.echo(text_report.calibration(fit, prefers_per_precision(fit), report_["written"]), nl=False)


@click.command("estimate-params")
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

    from ..engine.estimate import check_provider, estimate, offers_for, price_of

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
    click.echo(text_report.parameter_estimate(found, basis), nl=False)
