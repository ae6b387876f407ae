"""`impact report`: one self-contained HTML file for scenarios, sweeps, a comparison and a request log."""

from __future__ import annotations

import click

from .. import __version__
from ..engine import ImpactError, load_scenario, open_tree
from ..engine import run as run_scenario
from ..engine.errors import Location, Problem
from .common import optimization_option, progress, reports_errors, root_option, set_option, units_option


@click.command("report")
@click.argument("scenarios", nargs=-1, metavar="[SCENARIO]...")
@click.option("-o", "--out", required=True, metavar="FILE.html", help="The HTML file to write.")
@click.option("--batch", "log", metavar="LOG", help="Also a request log's totals (CSV or JSON Lines), with --scenario.")
@click.option("--scenario", "base", metavar="BASE.yaml", help="With --batch: the base scenario the log overrides.")
@click.option("--by", multiple=True, metavar="COLUMN", help="With --batch: break the totals down by this column.")
@click.option("--compare", "with_compare", is_flag=True, help="Also compare the methodologies on each scenario.")
@click.option("--methodology", "methodologies", multiple=True, metavar="NAME",
              help="Run this methodology instead of the scenario's (repeatable).")  # fmt: skip
@set_option
@optimization_option
@click.option("--samples", type=click.IntRange(min=1), metavar="N",
              help="Draw N samples of each scenario that is not a sweep: uncertainty bands.")  # fmt: skip
@click.option("--seed", type=int, metavar="S", help="Seed of the random draws.")
@units_option
@root_option
@reports_errors
def report_command(scenarios, out, log, base, by, with_compare, methodologies, sets, optimizations, samples, seed,
                   units, root):  # fmt: skip
    """Write one self-contained HTML report (no network at view time) of each SCENARIO (a sweep too) and, with
    --batch LOG --scenario BASE, a request log: the summary, charts (the plot extra: matplotlib), the derivation
    of the headline results, every input with its source, assumptions, warnings and provenance."""
    from ..engine import report
    from ..engine.render import html
    from ..engine.safefile import check_target, write_text

    where = Location(None, path=f"-o {out}")
    check_target(out, where)  # refuse a bad target before computing
    if not scenarios and not log:
        raise ImpactError(Problem(Location(None, path="impact report"), "nothing to report",
                                  "one or more SCENARIO files, or --batch LOG --scenario BASE"))  # fmt: skip
    if log and not base:
        raise ImpactError(Problem(Location(None, path=f"--batch {log}"), "a log needs its base scenario",
                                  "--scenario BASE.yaml"))  # fmt: skip
    tree = open_tree(root)
    chosen = list(methodologies) or None
    sections = []
    for scenario in scenarios:
        swept = "sweep" in load_scenario(scenario, tree).doc.data  # a sweep is not sampled: its points vary instead
        runs = run_scenario(scenario, tree=tree, methodologies=chosen, set=list(sets),
                            optimizations=list(optimizations), samples=None if swept else samples,
                            seed=seed)  # fmt: skip
        section = {"runs": runs, "comparison": None}
        if runs[0].points is None:
            section["explain"] = {r.methodology: report.explain_trees(r) for r in runs if report.explain_trees(r)}
        if with_compare:
            from ..engine.compare import compare

            section["comparison"] = compare(scenario, tree, chosen, list(sets), list(optimizations))
        sections.append(section)
    if log:
        from ..engine.batch import run_batch, summary

        with progress() as report_progress:
            batch = run_batch(log, base, tree, methodologies=chosen, set=list(sets),
                              optimizations=list(optimizations), by=by, progress=report_progress)  # fmt: skip
        sections.append({"batch": summary(batch)})
    names = [s["runs"][0].scenario.name if "runs" in s else s["batch"]["log"] for s in sections]
    write_text(out, html.document(sections, "impact report: " + ", ".join(names), __version__, units), where)
    click.echo(f"wrote {out}", err=True)
