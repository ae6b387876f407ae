"""`impact catalog`, `impact methodologies`, `impact diff` and `impact check`: browse and check a methodology tree."""

from __future__ import annotations

import sys

import click

from ..engine import ImpactError, open_tree
from ..engine.errors import Location, Problem, suggest
from .common import reports_errors, root_option, show


@click.group()
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

    from ..engine.render import browse

    entries = _catalog_table(open_tree(root), kind)
    if fmt == "json":
        click.echo(json.dumps({eid: e.data.get("name", "") for eid, e in entries.items()}, indent=2))
        return
    show(browse.catalog_list(kind, entries))


@catalog.command("show")
@click.argument("kind")
@click.argument("entry_id", metavar="ID")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@root_option
@reports_errors
def catalog_show(kind, entry_id, fmt, root):
    """Show every field of entry ID of catalog KIND, with its unit and source."""
    import json

    from ..engine.render import browse

    tree = open_tree(root)
    _catalog_table(tree, kind)
    entry = tree.entry(kind, entry_id, Location(None, path=f"catalog {kind} {entry_id}"))
    if fmt == "json":
        click.echo(json.dumps(entry.data, indent=2))
        return
    show(browse.catalog_entry(kind, entry_id, entry, tree.schemas.field_units(kind)))


@click.command("methodologies")
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


@click.command("diff")
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
    from ..engine import diff_report
    from ..engine.diff import diff

    found = diff(base, head, root)
    render = {"text": diff_report.to_text, "json": diff_report.to_json, "markdown": diff_report.to_markdown}[fmt]
    click.echo(render(found, fail_above), nl=False)
    if fail_above is not None and found.exceeding(fail_above):
        sys.exit(1)


@click.command("check")
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
    from ..engine.check import check, render

    found = check(open_tree(root), update_golden=update_golden)
    click.echo(render(found, fmt, verbose), nl=False)
    if not found.ok:
        sys.exit(1)
