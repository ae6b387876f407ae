"""The `impact` command: a thin Click front end over the engine.

`main` gathers the subcommands of `impact.commands` (a module per group of commands); they parse options,
call the engine and hand its rows to `engine.render`. Bad input (an `ImpactError`) becomes its one-line
messages on stderr and exit status 1, with no traceback; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import click

from . import __version__
from .commands import fit, report, run, serve, tables, tree


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="impact", message="%(prog)s %(version)s")
def main():
    """Estimate the duration, energy, emissions, water and memory of LLM inference.

    The methodology is data: formulas in formulas/*.yaml, facts in catalogs/*.yaml, each with its source.
    """


for command in (
    run.run_command,
    run.compare_command,
    tables.memory_command,
    fit.calibrate_command,
    fit.estimate_params_command,
    tables.validate_command,
    tables.batch_command,
    run.explain_command,
    report.report_command,
    tree.catalog,
    tree.methodologies_command,
    tree.diff_command,
    tree.check_command,
    serve.serve_command,
):
    main.add_command(command)


if __name__ == "__main__":  # pragma: no cover
    main()
