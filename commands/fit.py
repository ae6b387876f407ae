"""`impact calibrate` and `impact estimate-params`: fit the methodology's constants to published data."""

from __future__ import annotations

import click

from ..engine import ImpactError, open_tree
from ..engine.errors import Location, Problem
from ..engine.render import terminal
from ..engine.render.plain import calibration, parameter_estimate, serving_calibration
from .common import reports_errors, root_option


@click.command("calibrate")
@click.option(
    "--methodology",
    default="scope3",
    show_default=True,
    metavar="NAME",
    help="The methodology to fit: scope3 (its betas), or one that declares calibration: (serving).",
)
@click.option(
    "--data",
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="scope3 only: a benchmark table (kind: benchmarks) of your own. Default: the shipped TensorRT-LLM table.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="The calibrations catalog to update (entry --id only; every other entry and field is kept) or create, "
    "e.g. catalogs/calibrations.yaml. Required unless --dry-run.",
)
@click.option("--id", "entry_id", default="default", show_default=True, help="Id of the entry to update.")
@click.option("--dry-run", is_flag=True, help="Fit and report, write nothing.")
@click.option("--no-held-out", is_flag=True, help="serving: skip the held-out refits (faster; no held-out errors).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@root_option
@reports_errors
def calibrate_command(methodology, data, out, entry_id, dry_run, no_held_out, fmt, root):
    """Fit a methodology's coefficients on benchmark measurements, report the fit and its held-out error, and
    write them into one entry of a calibrations catalog (--out), keeping everything else in the file.

    scope3: beta_in and beta_out of t_hat = beta_in * t_in + beta_out * t_out on throughput, and its batch-1
    betas on first-token latency and single-request decode speed. serving (or any methodology whose formulas
    file declares calibration:): every fitted input, per engine, jointly on every table it names."""
    import datetime
    import json

    from ..engine.calibration_store import update

    tree = open_tree(root)
    where = Location(None, path=f"--out {out}" if out else "--out")
    if not out and not dry_run:
        raise ImpactError(Problem(where, "no --out: impact calibrate does not overwrite the tree's calibrations "
                                  "on its own", "--out FILE (e.g. --out catalogs/calibrations.yaml updates entry "
                                  f"'{entry_id}' there and keeps the others), or --dry-run"))  # fmt: skip
    date = datetime.date.today().isoformat()
    if methodology == "scope3":
        fields, report_, shown = _scope3(tree, data, date)
    else:
        if data:
            raise ImpactError(Problem(Location(None, path=f"--data {data}"), "--data is for scope3's betas",
                                      f"the datasets named in {methodology}'s calibration: block"))  # fmt: skip
        fields, report_, shown = _declared(tree, methodology, not no_held_out, date)
    written = None
    if not dry_run:
        update(tree, out, entry_id, fields, f"impact calibrate --methodology {methodology}", where)
        written = out
    report_["written"] = written
    if fmt == "json":
        click.echo(json.dumps(report_, indent=2))
        return
    click.echo(shown(written), nl=False)


def _scope3(tree, data, date):
    from ..engine.calibrate import batch1_betas, calibrate, entry_fields, prefers_per_precision

    fit = calibrate(tree, data)
    fields = {**entry_fields(fit, date), **(batch1_betas(tree) if not data else {})}
    report_ = {k: v for k, v in fit.__dict__.items() if k != "dropped"}
    report_.update(
        unusable_rows=len(fit.dropped),
        dropped=fit.dropped,
        batch_1=fields.get("beta_in_by_load")
        and {"beta_in": fields["beta_in_by_load"]["batch-1"], "beta_out": fields["beta_out_by_load"]["batch-1"]},
    )
    return fields, report_, lambda written: calibration(fit, prefers_per_precision(fit), written)


def _declared(tree, methodology, held_out, date):
    from ..engine.fitting import calibrate

    fit, fitter = calibrate(tree, methodology, held_out=held_out)
    names = fitter.fitted
    fields = {f"serving_{n}": {key: values[n] for key, values in fit.values.items() if n in values} for n in names}
    fields["fits"] = {methodology: {"date": date, "rows": fit.rows, "tied": fit.tied, "references": fit.references,
                                    "errors": fit.errors, "data_hash": fitter.rows.hashes}}  # fmt: skip
    report_ = {
        "methodology": methodology,
        "values": fit.values,
        "tied": fit.tied,
        "references": fit.references,
        "rows": fit.rows,
        "errors": fit.errors,
        "unusable_rows": len(fitter.rows.dropped),
        "dropped": fitter.rows.dropped,
    }
    width = terminal.console().width
    return fields, report_, lambda written: serving_calibration(fit, len(fitter.rows.dropped), written, names, width)


@click.command("estimate-params")
@click.option(
    "--provider",
    default="any",
    show_default=True,
    help="The provider whose price it is (as in the price table); 'any' uses the fit over all providers.",
)
@click.option("--price-in", metavar="USD", help="Input price, USD per million tokens.")
@click.option("--price-out", metavar="USD", help="Output price, USD per million tokens.")
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

    from ..engine.estimate import check_provider, estimate, offers_for, parse_price, price_of

    price_in, price_out = parse_price(price_in, "--price-in"), parse_price(price_out, "--price-out")

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
    click.echo(parameter_estimate(found, basis), nl=False)
