"""The measurements `python -m bench` runs, in order: module paths exposing ``measure(size) -> list[dict]``.

Each entry dict has the keys ``name, seconds, floor_seconds, peak_mib`` (see bench.common.line).
Add your module with a one-line edit; each runs in its own process.
"""

MEASUREMENTS = [
    "bench.bulk_import",
    "bench.recompute",
    "bench.payout_export",
]
