"""Helpers every measurement module uses: sizes, Django on the bench database, timing, memory.

A measurement module exposes ``measure(size: str) -> list[dict]`` and builds each dict with
``line(name, seconds, floor_seconds, peak_mib)``. Use ``timer()`` for wall time, ``peak_mib()`` for
the peak resident memory of this process so far, and ``run_child(argv)`` to time a command in its
own process with its own peak memory (so two lines of one module do not share a peak).
"""

from __future__ import annotations

import contextlib
import os
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAR_BENCH = ROOT / "var" / "bench"
DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/kmh_bench"

SIZES = {
    "province": {"branches": 5_000, "staff": 50_000},
    "national": {"branches": 50_000, "staff": 500_000},
}
REGIONS = 20
INDICATORS = 10
UNIT_DAYS = 90


def database_url() -> str:
    return os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)


def use_size_database(size: str) -> None:
    """National data lives in its own database (``kmh_bench_national``) unless BENCH_DATABASE_URL
    is set, so that province runs (by anyone) do not wipe a national bank that took long to build."""
    if size == "national" and not os.environ.get("BENCH_DATABASE_URL"):
        os.environ["BENCH_DATABASE_URL"] = DEFAULT_DATABASE_URL + "_national"
    url = database_url()
    name = url.rsplit("/", 1)[-1].split("?", 1)[0]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    import psycopg

    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def bench_environment() -> dict[str, str]:
    """Environment for Django (here or in a child) pointed at the bench database, tasks eager."""
    env = dict(os.environ)
    env["DATABASE_URL"] = database_url()
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"
    env.setdefault("SECRET_KEY", "bench-only-secret-key-not-for-production-0123456789")
    env["DEBUG"] = "0"  # DEBUG would keep every query in memory
    env.pop("REDIS_URL", None)  # recomputes queued by imports run in-process, not on a broker
    env.setdefault("LOG_LEVEL", "WARNING")
    return env


def setup_django(*, migrate: bool = True) -> None:
    """Configure Django on the bench database (BENCH_DATABASE_URL) and bring its schema up to date."""
    os.environ.update(bench_environment())
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    if migrate:
        from django.core.management import call_command

        call_command("migrate", verbosity=0, interactive=False)


@dataclass
class Timer:
    seconds: float = 0.0


@contextlib.contextmanager
def timer() -> Iterator[Timer]:
    """``with timer() as t: ...`` then ``t.seconds`` (wall clock, monotonic)."""
    result = Timer()
    start = time.perf_counter()
    try:
        yield result
    finally:
        result.seconds = time.perf_counter() - start


def peak_mib() -> float:
    """Peak resident memory of this process so far, in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_child(argv: list[str], *, env: dict[str, str] | None = None) -> tuple[float, float]:
    """Run ``argv`` to completion; return (wall seconds, peak MiB of that process). Raises on failure."""
    start = time.perf_counter()
    process = subprocess.Popen(argv, env=env or bench_environment(), cwd=ROOT)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise RuntimeError(f"{argv[:3]} exited with {code}")
    return seconds, usage.ru_maxrss / 1024


def line(name: str, seconds: float, floor_seconds: float | None, peak: float | None, **extra) -> dict:
    """One report line; ``extra`` (rows, bars …) goes to latest.json only."""
    ratio = round(seconds / floor_seconds, 2) if floor_seconds else None
    return {
        "name": name,
        "seconds": round(seconds, 2),
        "floor_seconds": round(floor_seconds, 2) if floor_seconds else None,
        "ratio": ratio,
        "peak_mib": round(peak, 1) if peak is not None else None,
        **extra,
    }


def header_line() -> str:
    return f"{'name':<34}{'seconds':>10}{'floor-s':>10}{'ratio':>8}{'peak-MiB':>10}"


def format_line(entry: dict) -> str:
    if "error" in entry:
        return f"{entry['name']:<34}  ERROR {entry['error']}"

    def cell(value, width, fmt):
        return f"{'-':>{width}}" if value is None else f"{value:>{width}{fmt}}"

    return (
        f"{entry['name']:<34}{cell(entry['seconds'], 10, '.2f')}{cell(entry.get('floor_seconds'), 10, '.2f')}"
        f"{cell(entry.get('ratio'), 8, '.2f')}{cell(entry.get('peak_mib'), 10, '.1f')}"
    )


def vacuum(*tables: str) -> None:
    """VACUUM ANALYZE ``tables`` (untimed): a measurement that deletes what the last one wrote must not
    time the dead rows it left, whether or not the server runs autovacuum (this machine's does not)."""
    with raw_connection() as conn:
        for table in tables:
            conn.execute(f"VACUUM ANALYZE {table}")


def settle() -> None:
    """CHECKPOINT (untimed): the dirty pages an earlier measurement left (a 5,000,000-row import)
    are written now, not during the next measurement's timing. Needs a superuser; skipped without."""
    import psycopg

    with raw_connection() as conn:
        try:
            conn.execute("CHECKPOINT")
        except psycopg.errors.InsufficientPrivilege:
            pass


def raw_connection():
    """A psycopg connection to the bench database in autocommit mode (for COPY and DDL)."""
    import psycopg

    return psycopg.connect(database_url(), autocommit=True)
