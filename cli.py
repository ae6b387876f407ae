"""The `impact` command: a thin Click front end over the engine.

`main` gathers the subcommands of `impact.commands` (a module per group of commands); they parse options,
call the engine and hand its rows to `engine.render`. Bad input (an `ImpactError`) becomes its one-line
messages on stderr and exit status 1, with no traceback; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import errno
import os
import sys

import click

from . import __version__
from .commands import fit, report, run, serve, tables, tree
from .engine.errors import Location, Problem


class _Impact(click.Group):
    """The command group; the one place where output that cannot be written ends the command (a full disk:
    one line and exit 1; a closed pipe, as under `| head -1`: quietly, exit 1), never with a traceback."""

    def invoke(self, ctx):
        try:
            result = super().invoke(ctx)
            sys.stdout.flush()
            return result
        except OSError as exc:
            if exc.errno not in _OUTPUT_ERRORS:
                raise
            _drop_stdout()
            if exc.errno != errno.EPIPE:  # a reader that went away needs no message
                problem = Problem(Location(None, path="stdout"), f"cannot write the output ({exc.strerror})",
                                  "room on the device that stdout goes to")  # fmt: skip
                click.echo(problem.render(), err=True)
            sys.exit(1)


_OUTPUT_ERRORS = {errno.EPIPE, errno.ENOSPC, errno.EFBIG, errno.EDQUOT}


def _drop_stdout() -> None:
    """Point stdout at /dev/null, so that the interpreter's last flush of what is still buffered cannot fail."""
    try:
        fd = sys.stdout.fileno()
    except (OSError, ValueError, AttributeError):  # not a real file (a test runner's buffer)
        return
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, fd)
    os.close(null)


@click.group(cls=_Impact, context_settings={"help_option_names": ["-h", "--help"]})
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
