"""The `arrears` command: one entry point, one subcommand per job.

Every failure the user can cause or meet ends with one line on stderr and the exit code
of CONTRACTS.md section 3 (see `arrears.errors`); results go to stdout. Each command's
options are in a module of this package; the work they call is elsewhere in `arrears/`,
imported when the command runs so that `arrears --help` and other commands start fast.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Sequence

import typer

from arrears.cli.archive import archive_command
from arrears.cli.audit import audit
from arrears.cli.console import console
from arrears.cli.import_file import import_
from arrears.cli.keys import keys
from arrears.cli.override import override_command, retry_append_command
from arrears.cli.payments import payments_command
from arrears.cli.purge import purge_command
from arrears.cli.report import report_command
from arrears.cli.serve import migrate, run, up, worker
from arrears.cli.simulate import simulate
from arrears.cli.status import status_command
from arrears.cli.users import users
from arrears.errors import ArrearsError
from arrears.logs import configure_logging
from arrears.settings import load_settings
from arrears.stack.temporal import install_runtime

app = typer.Typer(
    name="arrears",
    help="Arrears: collections cases as Temporal workflows.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",  # docstring paragraphs are joined, not cut at each line
)

# In this order in `arrears --help`.
app.command()(up)
app.command()(run)
app.command()(worker)
app.command()(migrate)
app.command()(simulate)
app.command(context_settings={"allow_interspersed_args": True})(audit)
app.command(name="import")(import_)
app.command(name="override")(override_command)
app.command(name="retry-append")(retry_append_command)
app.command(name="payments")(payments_command)
app.command(name="status")(status_command)
app.command(name="report")(report_command)
app.command(name="purge")(purge_command)
app.command(name="archive")(archive_command)
app.command()(console)
app.add_typer(users)
app.add_typer(keys)


def main(argv: Sequence[str] | None = None) -> None:
    """Console entry point: configure logging, run the command, map errors to exit codes.

    It ends the process with `os._exit` after flushing: the Temporal SDK's native threads
    can outlive the event loop and abort the interpreter's shutdown ("PyGILState_Release",
    temporalio/sdk-python#300), which would turn a successful command into exit code 134.
    """
    code: int = 0
    try:
        configure_logging(load_settings())
        install_runtime()
        app(args=list(argv) if argv is not None else None, prog_name="arrears")
    except ArrearsError as err:
        print(f"arrears: {err}", file=sys.stderr, flush=True)
        code = err.exit_code
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        logging.shutdown()
    os._exit(code)
