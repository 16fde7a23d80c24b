"""Reads by long id lists: one ``= ANY(array)`` parameter on PostgreSQL, slices of ``IN`` elsewhere.

A national bank's run has 500,000 payees: an ``IN`` list of that size would exceed SQLite's
variable limit, and on PostgreSQL client-side binding of thousands of parameters costs seconds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from django.db import connection
from django.db.models import QuerySet

SLICE = 5000


def by_slices(ids: Iterable, query: Callable[[list], Iterable]) -> Iterator:
    """Rows of ``query(slice_of_ids)`` over ``ids`` taken ``SLICE`` at a time."""
    ordered = list(ids)
    for start in range(0, len(ordered), SLICE):
        yield from query(ordered[start : start + SLICE])


def filter_ids(queryset: QuerySet, column: str, ids: Iterable[int]) -> Iterator:
    """``queryset`` restricted to rows whose ``column`` (a real column of its table) is in ``ids``.

    Yields the queryset's rows (use ``values``/``values_list`` before calling).
    """
    ordered = [int(value) for value in ids]
    if not ordered:
        return iter(())
    if connection.vendor == "postgresql":
        table = queryset.model._meta.db_table
        return iter(queryset.extra(where=[f'"{table}"."{column}" = ANY(%s)'], params=[ordered]))
    return by_slices(ordered, lambda part: queryset.filter(**{f"{column}__in": part}))
