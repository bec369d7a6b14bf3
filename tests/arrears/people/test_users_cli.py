"""`arrears users ...` as a real process against a real database, the password on stdin."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import asyncpg

from arrears.people.throttle import sign_in
from tests.arrears.people.conftest import PASSWORD, T0
from tests.support import free_port

ROOT = Path(__file__).resolve().parents[3]


async def arrears(*args: str, db_url: str, stdin: str = "") -> tuple[int, str, str]:
    """`python -m arrears.cli ARGS` from this tree, with only `DATABASE_URL` configured."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not (k.startswith("ARREARS_") or k in ("TEMPORAL_ADDRESS", "DATABASE_URL"))
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "arrears.cli", *args,
        env=env | {"DATABASE_URL": db_url}, cwd=ROOT,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(stdin.encode()), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_users_round_trip_add_list_set_password_disable(
    pool: asyncpg.Pool, fresh_database_url: str
) -> None:
    url = fresh_database_url
    code, out, err = await arrears(
        "users", "add", "s-2", "--role", "supervisor", "--name", "Li Wei", "--password-stdin",
        db_url=url, stdin=PASSWORD + "\n",
    )  # fmt: skip
    assert (code, err) == (0, ""), err
    assert PASSWORD not in out
    async with pool.acquire() as conn:
        assert (await sign_in(conn, "s-2", PASSWORD, "127.0.0.1", T0)).role == "supervisor"

    new_password = "a brand new long password"
    code, _, err = await arrears(
        "users", "set-password", "s-2", "--password-stdin", db_url=url, stdin=new_password
    )
    assert code == 0, err
    async with pool.acquire() as conn:
        assert (await sign_in(conn, "s-2", new_password, "127.0.0.1", T0)).id == "s-2"

    code, _, err = await arrears("users", "disable", "s-2", db_url=url)
    assert code == 0, err
    code, out, err = await arrears("users", "list", "--json", db_url=url)
    assert code == 0, err
    assert json.loads(out) == [
        {"id": "s-2", "name": "Li Wei", "role": "supervisor", "active": False, "locale": None}
    ]
    code, out, _ = await arrears("users", "list", db_url=url)
    assert out.splitlines()[1].split()[:3] == ["s-2", "supervisor", "disabled"]


async def test_a_short_or_missing_password_is_exit_2_and_adds_nobody(
    pool: asyncpg.Pool, fresh_database_url: str
) -> None:
    for stdin, message in (("short\n", "at least 12 characters"), ("", "no password on stdin")):
        code, out, err = await arrears(
            "users", "add", "c-7", "--role", "collector", "--password-stdin",
            db_url=fresh_database_url, stdin=stdin,
        )  # fmt: skip
        assert code == 2, (out, err)
        assert err.startswith("arrears: ") and message in err and len(err.splitlines()) == 1
    assert await pool.fetchval("SELECT count(*) FROM users") == 0


async def test_a_taken_id_an_unknown_id_and_a_bad_role_are_exit_2(
    pool: asyncpg.Pool, fresh_database_url: str
) -> None:
    url = fresh_database_url
    add = ("users", "add", "s-2", "--role", "supervisor", "--password-stdin")
    assert (await arrears(*add, db_url=url, stdin=PASSWORD))[0] == 0
    runs = {
        "exists already": await arrears(*add, db_url=url, stdin=PASSWORD),
        "no such user: 'ghost'": await arrears("users", "disable", "ghost", db_url=url),
        "role 'boss'": await arrears(
            "users",
            "add",
            "b-1",
            "--role",
            "boss",
            "--password-stdin",
            db_url=url,
            stdin=PASSWORD,
        ),
    }
    for message, (code, _, err) in runs.items():
        assert code == 2 and message in err and len(err.splitlines()) == 1, err


async def test_without_postgresql_the_users_command_is_one_line_and_exit_3() -> None:
    code, _, err = await arrears(
        "users", "list", db_url=f"postgresql://postgres@127.0.0.1:{free_port()}/arrears"
    )
    assert code == 3
    assert len(err.strip().splitlines()) == 1 and "is unreachable" in err, err
