"""Errors that end a command with one clear line and a documented exit code.

CONTRACTS.md section 3: 0 success; 1 the work ran and found problems; 2 bad usage or
unreadable input; 3 a required service is unreachable. A command raises one of these and
`arrears.cli.main` prints `arrears: <message>` on stderr and exits with its code; nothing
else turns into a traceback for the user.
"""

from __future__ import annotations


class ArrearsError(Exception):
    """Base class: `str(error)` is the one line the user sees."""

    exit_code = 1


class UsageError(ArrearsError):
    """Bad usage or unreadable input (exit code 2)."""

    exit_code = 2


class NotYetAvailable(UsageError):
    """A subcommand whose issue has not landed yet (exit code 2)."""


class ServiceUnavailable(ArrearsError):
    """A required service cannot be reached or started (exit code 3)."""

    exit_code = 3
