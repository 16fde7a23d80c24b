"""Reads by long id lists in slices, so a national bank's 500,000 payees stay under SQLite's
variable limit and PostgreSQL gets plans of reasonable size."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

SLICE = 5000


def by_slices(ids: Iterable, query: Callable[[list], Iterable]) -> Iterator:
    """Rows of ``query(slice_of_ids)`` over ``ids`` taken ``SLICE`` at a time."""
    ordered = list(ids)
    for start in range(0, len(ordered), SLICE):
        yield from query(ordered[start : start + SLICE])
