"""`arrears keys ...`: the master key of personal data at rest (arrears.crypto)."""

from __future__ import annotations

import typer

keys = typer.Typer(name="keys", help="Master key of the personal data at rest.")


@keys.command()
def rotate() -> None:
    """Write a new master key to the key file and re-wrap every case's data key under it
    (personal data is not decrypted); the old key is removed once all are re-wrapped."""
    from arrears.crypto.rotation import run_rotate

    print(run_rotate(), flush=True)
