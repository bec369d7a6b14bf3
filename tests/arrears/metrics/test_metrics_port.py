"""A worker whose metrics port is taken stops before it connects anywhere: one line naming
the port and the setting, exit code 3 (a service it needs cannot start), no traceback."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

from tests.support import bare_env

ARREARS = str(Path(sys.executable).parent / "arrears")


def test_a_worker_whose_metrics_port_is_taken_says_so_in_one_line_with_exit_code_3() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        done = subprocess.run(
            [ARREARS, "worker"],
            env=bare_env(ARREARS_METRICS_PORT=str(port), TEMPORAL_ADDRESS="127.0.0.1:9"),
            capture_output=True,
            text=True,
            timeout=60,
        )

    (line,) = done.stderr.splitlines()
    assert done.returncode == 3
    assert line.startswith("arrears: ")
    assert f"port {port}" in line and "in use" in line and "ARREARS_METRICS_PORT" in line
