"""`arrears users ...`: the options; the work (and every check) is `arrears.people.commands`."""

from __future__ import annotations

from typing import Annotated

import typer

users = typer.Typer(
    name="users",
    help="People who may sign in to the console and give overrides (ids, roles, passwords).",
    no_args_is_help=True,
)

_Id = Annotated[str, typer.Argument(metavar="ID", help="The user's id, e.g. s-2 (never a person's name).")]
_PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password (one line) from stdin.")
]


@users.command("add")
def add_command(
    user_id: _Id,
    role: Annotated[str, typer.Option(help="collector, supervisor, manager or auditor.")],
    name: Annotated[str | None, typer.Option(help="Display name (default: the id).")] = None,
    password_stdin: _PasswordStdin = False,
) -> None:
    """Add an active user; the password (12 characters at least) comes from stdin."""
    from arrears.people.commands import run_add

    print(run_add(user_id, role, name, password_stdin), flush=True)


@users.command("list")
def list_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Every user: id, role, active or disabled, language, display name."""
    from arrears.people.commands import run_list

    for line in run_list(as_json):
        print(line, flush=True)


@users.command("disable")
def disable_command(user_id: _Id) -> None:
    """The user may no longer sign in or give overrides; their sessions end now."""
    from arrears.people.commands import run_disable

    print(run_disable(user_id), flush=True)


@users.command("enable")
def enable_command(user_id: _Id) -> None:
    """A disabled user may sign in and give overrides again."""
    from arrears.people.commands import run_enable

    print(run_enable(user_id), flush=True)


@users.command("set-password")
def set_password_command(user_id: _Id, password_stdin: _PasswordStdin = False) -> None:
    """A new password from stdin; the user's open sessions end."""
    from arrears.people.commands import run_set_password

    print(run_set_password(user_id, password_stdin), flush=True)
