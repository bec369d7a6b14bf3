"""Import throughput: `arrears import` of N sample cases on the embedded stack, beside bare
`start_workflow` calls at the same concurrency on the same server.

    .venv/bin/python bench/import_throughput.py [--cases 10000] [--concurrency 64]

The bare starts carry the same workflow inputs the import sends (built beforehand from
the same rows), so the ratio measures what the importer adds: reading, validating and
keeping rows, and bounding the starts. The bare rate is measured before and after the
import and averaged, since the dev server slows as its store fills. Prints cases/s for
both, the ratio (target: the import reaches 90 % of the bare rate) and the importer's
memory (the process's max RSS and how much of it the import added).
Everything runs on 127.0.0.1 and stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import socket
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from arrears.crypto.keyring import Keyring, new_key
from arrears.crypto.vault import PersonalVault
from arrears.intake.importer import Importer, open_placements
from arrears.intake.placement_file import read_placements
from arrears.intake.sample import write_sample
from arrears.settings import SEARCH_ATTRIBUTES
from arrears.stack.postgres import EmbeddedPostgres
from arrears.stack.temporal import install_runtime
from arrears.store.db import create_pool, migrate
from domain.intake import open_case
from domain.policy import Policy
from workflows.case_io import BusinessClock, CaseInput


def _max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def bare_inputs(sample: Path, count: int) -> list[CaseInput]:
    """The inputs the import will send, built before the clock starts."""
    rows = [r.row for r in read_placements(sample) if r.row is not None][:count]
    return [
        CaseInput(case_id=row.case_id, policy=Policy(), clock=BusinessClock(), open=open_case(row))
        for row in rows
    ]


async def bare_starts(env: WorkflowEnvironment, inputs: list[CaseInput], concurrency: int) -> float:
    """The same server's rate for plain starts (no worker polls their queue)."""
    queue = f"bare-{uuid.uuid4().hex[:6]}"
    count = len(inputs)
    todo = iter(enumerate(inputs))
    started = time.perf_counter()

    async def starter() -> None:
        for n, case_input in todo:
            await env.client.start_workflow(
                "Case", case_input, id=f"bare-{queue}-{n}", task_queue=queue
            )

    await asyncio.gather(*(starter() for _ in range(concurrency)))
    return count / (time.perf_counter() - started)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args()
    install_runtime()
    extra = [
        a
        for name, kind in SEARCH_ATTRIBUTES.items()
        for a in ("--search-attribute", f"{name}={kind}")
    ]
    with tempfile.TemporaryDirectory(prefix="arrears-bench-import-") as tmp:
        home = Path(tmp)
        postgres = EmbeddedPostgres(home, free_port())
        await postgres.start()
        env = await WorkflowEnvironment.start_local(
            dev_server_existing_path=str(Path(sys.executable).parent / "temporal"),
            dev_server_extra_args=extra,
            data_converter=pydantic_data_converter,
        )
        try:
            async with env:
                pool = await create_pool(postgres.url, max_size=20)
                await migrate(pool)
                sample = write_sample(
                    home / "placement.csv", args.cases, seed=3, as_of=datetime.now(UTC).date()
                )
                size_mb = sample.stat().st_size / 1e6
                # The server slows as its store fills, so the bare rate is measured before
                # and after the import and averaged: neither side gets the empty server.
                half = bare_inputs(sample, args.cases // 2)
                bare_before = await bare_starts(env, half, args.concurrency)
                records, digest = open_placements(sample)
                importer = Importer(
                    client=env.client, pool=pool, policy=Policy(), task_queue="bench-import",
                    vault=PersonalVault(Keyring((new_key(),))), concurrency=args.concurrency,
                )  # fmt: skip
                # No tracemalloc here: it slows Python code about twice and would make the
                # comparison unfair. Memory is the growth of the peak RSS over the import.
                rss_before = _max_rss_mb()
                began = time.perf_counter()
                summary = await importer.run(records, digest, home / "rejected.csv")
                seconds = time.perf_counter() - began
                rss_growth = _max_rss_mb() - rss_before
                bare_after = await bare_starts(env, half, args.concurrency)
                bare = (bare_before + bare_after) / 2
                await pool.close()
        finally:
            await postgres.stop()
    rate = summary.started / seconds
    ratio = rate / bare
    print(f"cases: {args.cases} (file {size_mb:.1f} MB), concurrency {args.concurrency}")
    print(f"import:       {summary.started} started in {seconds:.1f} s = {rate:.0f} cases/s")
    print(
        f"bare starts:  {bare:.0f} workflows/s (same server, same concurrency; "
        f"{bare_before:.0f} before the import, {bare_after:.0f} after)"
    )
    print(f"ratio import/bare: {ratio:.2f} (target >= 0.90): {'PASS' if ratio >= 0.9 else 'FAIL'}")
    print(
        f"importer memory: process max RSS {_max_rss_mb():.0f} MB, "
        f"of which {rss_growth:.1f} MB added during the import of {size_mb:.1f} MB"
    )


if __name__ == "__main__":
    asyncio.run(main())
