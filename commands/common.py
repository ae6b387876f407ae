"""What every command shares: the --root, --set and --optimization options, the ImpactError wrapper, and
the printing of rendered text or terminal renderables (the only place, with cli.py, that prints or exits)."""

from __future__ import annotations

import functools
import sys

import click

from ..engine import ImpactError, render

FORMATS = ["table", "json", "csv", "markdown"]
units_option = click.option(
    "--units", type=click.Choice(["si", "ghg"]), default="si", show_default=True,
    help="Units of tables and reports: si = Wh, gCO2e, L (the methodology's); ghg = kWh, kgCO2e, m3. "
    "JSON and CSV keep the methodology's units.",
)  # fmt: skip
DEFAULT_SCENARIO = "scenarios/chatbot-llama70b-h100.yaml"


def _announce_root(ctx, param, value):
    """Say on stderr which tree a command uses when it found one by itself ($IMPACT_ROOT, the current
    directory) rather than being named with --root or using the shipped one (the rule: engine.tree.locate)."""
    from ..engine.tree import SHIPPED_ROOT, locate

    path, how = locate(value)
    if how not in ("--root", "shipped") and path.resolve() != SHIPPED_ROOT:
        click.echo(f"impact: using the methodology tree {path.resolve()} (from {how})", err=True)
    return value


root_option = click.option(
    "--root",
    type=click.Path(file_okay=False),
    callback=_announce_root,
    help="Methodology tree (formulas/, catalogs/) to use. Default: $IMPACT_ROOT, else the current directory when "
    "it holds formulas/ and catalogs/, else the shipped tree.",
)
set_option = click.option(
    "--set", "sets", multiple=True, metavar="NAME=VALUE",
    help="Override any input or formula by name (repeatable), e.g. --set PUE=1 --set P_gpu='0.7 kW'.",
)  # fmt: skip
optimization_option = click.option(
    "--optimization", "optimizations", multiple=True, metavar="NAME",
    help="Apply this optimization (formulas/optimizations/) after the scenario's own (repeatable).",
)  # fmt: skip


def format_option(choices=FORMATS, **kwargs):
    return click.option("--format", "fmt", type=click.Choice(choices), default=choices[0], show_default=True, **kwargs)


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


def show(renderables) -> None:
    """Print terminal renderables (engine.render.terminal) on stdout."""
    from ..engine.render import terminal

    console = terminal.console()
    for item in renderables:
        console.print(item)


def emit(fmt: str, kind: str, data, **options) -> None:
    """`data` of `kind` in format `fmt`: text from its render module, or the terminal's tables."""
    if fmt in render.TEXT_FORMATS:
        click.echo(render.text(fmt, kind, data, **options), nl=False)
    else:
        from ..engine.render import terminal

        show(render.call(getattr(terminal, kind), data, width=terminal.console().width, **options))


class progress:
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
