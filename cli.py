"""The `impact` command: a thin Click front end over the engine.

`main` gathers the subcommands of `impact.commands` (a module per group of commands); they parse options,
call the engine and hand its rows to `engine.render`; the console script is `entry` (`main`, then a quick
exit). Bad input (an `ImpactError`) becomes its one-line messages on stderr and exit status 1, with no
traceback; anything else is a bug and keeps its traceback.
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


def entry() -> None:
    """The `impact` console script: `main`, then the process ends at once (`os._exit`) with its exit status.

    Tearing down the interpreter (every module, the loaded tree, numpy's and pyarrow's libraries) costs about
    0.1 s after the output is written, as much as a small command's work; nothing in it is ours to wait for. The
    exit functions still run (`atexit`) and stdout and stderr are flushed first; where they cannot be (a closed
    pipe), where another Python thread is still alive, or where the command ends otherwise than with a status
    (a bug's traceback), the interpreter exits the ordinary way, as it always did."""
    import atexit
    import threading

    try:
        main()
    except SystemExit as exc:
        code = exc.code
        if (code is not None and not isinstance(code, int)) or threading.active_count() > 1:
            raise
        atexit._run_exitfuncs()
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except (OSError, ValueError):
            raise exc from None
        os._exit(code or 0)


if __name__ == "__main__":  # pragma: no cover
    entry()
