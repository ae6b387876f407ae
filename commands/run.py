"""`impact run`, `impact compare` and `impact explain`: evaluate a scenario and show its results."""

from __future__ import annotations

import click

from ..engine import ImpactError, open_tree
from ..engine import run as run_scenario
from ..engine.errors import Location, Problem
from ..engine.render import STANDARDS
from ..engine.standards import PER
from .common import (
    DEFAULT_SCENARIO,
    FORMATS,
    emit,
    format_option,
    optimization_option,
    reports_errors,
    root_option,
    set_option,
    show,
    units_option,
)

methodology_option = click.option(
    "--methodology", "methodologies", multiple=True, metavar="NAME",
    help="Run this methodology instead of the scenario's (repeatable).",
)  # fmt: skip


@click.command("run")
@click.argument("scenario", required=False)
@set_option
@methodology_option
@optimization_option
@format_option(FORMATS + list(STANDARDS), help="Output format; ghg, sci and esrs: the standards' shapes (README).")
@click.option("--per", type=click.Choice(PER), default="request", show_default=True,
              help="With --format sci: the functional unit R (token = input + output tokens).")  # fmt: skip
@click.option("--session-requests", type=click.FloatRange(min=1), metavar="N",
              help="With --format sci --per session: requests in one session.")  # fmt: skip
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
@click.option(
    "--details", "-v", is_flag=True, help="Also every result, and every input with its value, unit and source."
)
@units_option
@root_option
@reports_errors
def run_command(scenario, sets, methodologies, optimizations, fmt, per, session_requests, with_explain, samples, seed,
                plot_path, x_name, y_name, details, units, root):  # fmt: skip
    """Evaluate SCENARIO (a YAML file; the shipped chatbot example when omitted).

    Prints a summary first: a row per methodology with its headline duration, energy, emissions, water, memory
    and GPUs, per request and in total; then assumptions and warnings. --details adds every result, and every
    input with its value, unit and source (file:line of the catalog entry, scenario line, --set or default).
    A scenario with a sweep: prints one row per point.
    """
    if plot_path:
        from ..engine.validate import require_matplotlib

        require_matplotlib(plot_path)  # fail before computing, not after
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
        from ..engine.sweep import plot

        plot(runs, plot_path, x_name, y_name)
    if fmt in STANDARDS and runs and runs[0].points is not None:
        raise ImpactError(Problem(Location(None, path=f"--format {fmt}"), "a sweep has a value per point, not one "
                                  "inventory", "a scenario without a sweep: block (the point to report)"))  # fmt: skip
    from ..engine.sweep import check_output_fits

    check_output_fits(runs, fmt, Location(None, path=f"--format {fmt}"))  # before any of the output is built
    emit(fmt, "runs", runs, explain=with_explain, details=details, units=units, per=per,
         session_requests=session_requests)  # fmt: skip
    if plot_path:
        click.echo(f"wrote {plot_path}", err=True)


@click.command("compare")
@click.argument("scenario", required=False)
@click.option(
    "--methodology",
    "methodologies",
    multiple=True,
    metavar="NAME",
    help="A column to compare: a methodology, or NAME+OPTIMIZATION[+...] with optimizations applied, e.g. "
    "--methodology scope3 --methodology scope3+speculative-decoding (repeatable; the first is the baseline of "
    "the ratios). Default: every methodology that declares a headline energy.",
)
@set_option
@optimization_option
@format_option()
@root_option
@reports_errors
def compare_command(scenario, methodologies, sets, optimizations, fmt, root):
    """Compare methodologies on SCENARIO: duration, energy per request and per 1k output tokens, emissions and
    water, one column per methodology (with its optimizations: scope3+batching), and the ratio of each to the
    first. --optimization applies to every column whose methodology it covers. A sweep: one row per point."""
    from ..engine.compare import compare

    tree = open_tree(root)
    source = scenario or str(tree.root / DEFAULT_SCENARIO)
    emit(fmt, "comparison", compare(source, tree, list(methodologies) or None, list(sets), list(optimizations)))


@click.command("explain")
@click.argument("scenario")
@click.argument("result")
@click.option("--methodology", default=None, metavar="NAME", help="The methodology whose result it is.")
@set_option
@optimization_option
@format_option(["text", "json"])
@root_option
@reports_errors
def explain_command(scenario, result, methodology, sets, optimizations, fmt, root):
    """The derivation tree of RESULT in SCENARIO: each formula with its expression and the values substituted,
    each input with its value, unit and source (catalog file and line, scenario line, --set, default)."""
    import json

    from ..engine.explain import explain, pick
    from ..engine.render import browse

    tree = open_tree(root)
    runs = run_scenario(scenario, tree=tree, methodologies=[methodology] if methodology else None, set=list(sets),
                        optimizations=list(optimizations))  # fmt: skip
    chosen = pick(runs, result, methodology, Location(None, path=f"{scenario} {result}"))
    found = explain(chosen, result)
    if fmt == "json":
        click.echo(json.dumps({"methodology": chosen.methodology, "provenance": chosen.provenance, "tree": found},
                              indent=2))  # fmt: skip
        return
    show(browse.explain(found))
