"""Where a staff member's own reward belongs when they moved: the unit of most of the rule's window.

A reward is computed on a window (the rule's start to the as-of date). Figures dated before a
move stay with the old unit (``branches.models.StaffAssignment``), but a reward computed on the
whole window is one amount: it belongs to the unit the person was assigned to for the most days
of the window; on a tie, the later one. That unit is copied on the payout line (so the unit's
statement, the totals per unit and the managers who see the line follow it), and it is the unit
whose figures a unit-wide condition on the person's reward reads (``{"unit_of": …}``: template A's
falsified branch takes the POS reward of the staff who spent most of the quarter there).

Two readings stay with the as-of date, since they ask who is in a unit then, not where one
person's work belongs: a unit's result handed to its head, deputies or staff (the people in post
on the as-of date; the line belongs to that unit), and a unit's figure from its staff
(``across_staff``).

Both forms are SQL, one statement for every staff member (set-based): ``main_units_sql`` for all
staff of one window, ``main_unit_of_sql`` as a correlated subquery for one row's staff member and
window.
"""

from __future__ import annotations

import datetime

from django.db import connection

from branches.models import StaffAssignment


def _days(start: str, end: str) -> str:
    """SQL: the days of assignment ``a`` falling between ``start`` and ``end`` (inclusive)."""
    if connection.vendor == "postgresql":
        return f"(LEAST(COALESCE(a.valid_to, {end}), {end}) - GREATEST(a.valid_from, {start}) + 1)"
    # SQLite keeps dates as ISO text: its scalar MIN/MAX compare them in order.
    return f"(julianday(MIN(COALESCE(a.valid_to, {end}), {end})) - julianday(MAX(a.valid_from, {start})) + 1)"


def _overlapping(start: str, end: str) -> str:
    return f"a.valid_from <= {end} AND (a.valid_to IS NULL OR a.valid_to >= {start})"


# The unit with the most days first; a tie goes to the unit joined later (then the higher id,
# so the answer never depends on the plan). The days are summed per unit (two assignments in one
# unit, a change of position, count together) over a derived table: SQLite cannot read an outer
# column inside an aggregate of ORDER BY.
_ORDER = "SUM(x.days) DESC, MAX(x.valid_from) DESC, x.unit_id DESC"


def _assignment_days(start: str, end: str, join: str = "", where: str = "") -> str:
    """SQL rows ``(staff_id, unit_id, valid_from, days)``: the assignments overlapping ``start`` to
    ``end`` with their days in it."""
    table = StaffAssignment._meta.db_table
    overlapping = _overlapping(start, end)
    condition = f"{where} AND {overlapping}" if where else overlapping
    return (
        f"SELECT a.staff_id, a.unit_id, a.valid_from, {_days(start, end)} AS days"
        f" FROM {table} a {join} WHERE {condition}"
    )


def main_unit_of_sql(staff: str, start: str, end: str) -> str:
    """A scalar subquery: the unit staff member ``staff`` (an SQL expression) was assigned to for
    the most days from ``start`` to ``end`` (SQL date expressions); NULL when not assigned then."""
    rows = _assignment_days(start, end, where=f"a.staff_id = {staff}")
    return f"(SELECT x.unit_id FROM ({rows}) x GROUP BY x.unit_id ORDER BY {_ORDER} LIMIT 1)"


def main_units_sql(start: datetime.date, end: datetime.date) -> tuple[str, list]:
    """A subquery of ``(staff_id, unit_id)``: every staff member assigned at some time from
    ``start`` to ``end``, with the unit of most of those days (one statement)."""
    day = "CAST(%s AS date)" if connection.vendor == "postgresql" else "%s"
    rows = _assignment_days("w.first_day", "w.last_day", join=f"JOIN (SELECT {day} AS first_day, {day} AS last_day) w ON 1 = 1")
    sql = (
        "(SELECT placed.staff_id, placed.unit_id FROM ("
        f" SELECT x.staff_id, x.unit_id, ROW_NUMBER() OVER (PARTITION BY x.staff_id ORDER BY {_ORDER}) AS n"
        f" FROM ({rows}) x GROUP BY x.staff_id, x.unit_id"
        ") placed WHERE placed.n = 1)"
    )
    return sql, [start, end]
