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


@keys.command("encrypt-existing")
def encrypt_existing() -> None:
    """Seal the personal data of placement records written in plaintext before migration
    0014, a batch per transaction (safe to stop and run again; `arrears up` runs it too).
    The import and the console refuse to start until none is left."""
    from arrears.crypto.existing import run_encrypt_existing

    print(run_encrypt_existing(), flush=True)
