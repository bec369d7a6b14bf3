"""Reading a certificate or key file given in the configuration.

Checked before any connection is tried, so that a wrong path or a file that is not PEM is
bad usage (one line naming the file, exit code 2), never confused with a server that
cannot be reached or refuses us (exit code 3).
"""

from __future__ import annotations

from pathlib import Path

from arrears.errors import UsageError


def read_pem(path: Path, what: str) -> bytes:
    """The bytes of a PEM file, or one line saying which file and why not."""
    try:
        data = path.expanduser().read_bytes()
    except OSError as err:
        raise UsageError(f"cannot read the {what} {path}: {err.strerror or err}") from None
    if b"-----BEGIN " not in data:
        raise UsageError(f"the {what} {path} is not a PEM file")
    return data
