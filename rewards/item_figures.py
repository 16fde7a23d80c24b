"""Figures read from business items (``BusinessItem``: deposits, policies), one statement for all.

``{"items": ["TIME_1Y"], "measure": "daily_average", "level": "staff", "above": "2000000",
"among": ["TIME_1Y", "SHORT", "CORP"]}``:

- ``measure: daily_average`` — each item's share of the period's daily average: amount × the days
  it was held from the period start to the as-of date (from its date, up to the day before its
  ``end_date``) ÷ the period's calendar days; ``sum`` — the amounts of the items dated in the
  period and not ended by the as-of date; ``count`` — how many such items (rulebook D: new deposit
  accounts still active at year end, 3 yuan each);
- ``above`` (optional): only the part lying above this bar when the subject's items of the kinds
  ``among`` (default: ``items``) are stacked by date, oldest first (rulebook D: "which deposits lie
  above 2,000,000 is decided by deposit date, oldest first"); ties on the date by item number.
  The figure is the part of the ``items`` kinds above the bar;
- ``void_if_ended_within_years`` (optional): an item of the ``items`` kinds that ended before the
  same date that many years later (a one-year time deposit withdrawn early: 1; withdrawn on its
  maturity day it is not early, and a leap year counts its 366 days) earns nothing in any period,
  so its reward is taken back once the withdrawal is loaded; it still fills the stack for the
  days it was held, so the other deposits keep their places. ``void_if_ended_within_days``: the
  same in days (ended on or before its date + that many days).

Every subject with an item of the ``among`` kinds in the period has the figure (0 when none of it
lies above the bar); others are left out. The stacking is a running ``SUM() OVER (PARTITION BY
subject ORDER BY date, item_no)``, on PostgreSQL and SQLite alike. Comparisons are made on
amount × days (exact); the division by the period's days comes last, in Decimal.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import connection
from django.utils.translation import gettext as _

from branches.models import SubjectKind

ITEM_MEASURES = ("daily_average", "sum", "count")
LEVELS = {"unit": SubjectKind.UNIT, "staff": SubjectKind.STAFF}


def _kinds(value, where: str) -> list[str]:
    kinds = [value] if isinstance(value, str) else value
    if not isinstance(kinds, list) or not kinds or not all(isinstance(kind, str) and kind for kind in kinds):
        raise ValidationError(_("%(where)s: give an item kind or a list of kinds.") % {"where": where})
    return kinds


def validate(expr: dict, where: str) -> None:
    """Raise ValidationError naming the field if ``expr`` is not an item figure."""
    items = _kinds(expr["items"], f"{where}.items")
    if "among" in expr:
        among = _kinds(expr["among"], f"{where}.among")
        # Only the stacked kinds are read: an item kind outside them would silently count nothing.
        if outside := sorted(set(items) - set(among)):
            raise ValidationError(
                _("%(where)s.among: must include every kind of items (missing %(kinds)s).")
                % {"where": where, "kinds": ", ".join(outside)}
            )
    if expr.get("measure", "sum") not in ITEM_MEASURES:
        raise ValidationError(
            _("%(where)s.measure: must be one of %(choices)s.") % {"where": where, "choices": ", ".join(ITEM_MEASURES)}
        )
    if expr.get("level", "unit") not in LEVELS:
        raise ValidationError(_("%(where)s.level: must be unit or staff.") % {"where": where})
    if "above" in expr:
        try:
            Decimal(str(expr["above"]))
        except ArithmeticError as error:
            raise ValidationError(_("%(where)s.above: not a number.") % {"where": where}) from error
    if "void_if_ended_within_days" in expr and "void_if_ended_within_years" in expr:
        raise ValidationError(
            _("%(where)s.void_if_ended_within_days: give it or void_if_ended_within_years, not both.") % {"where": where}
        )
    for key in ("void_if_ended_within_days", "void_if_ended_within_years"):
        if key in expr:
            count = expr[key]
            if not isinstance(count, int) or isinstance(count, bool) or count < 0:
                raise ValidationError(_("%(where)s.%(key)s: a whole number, 0 or more.") % {"where": where, "key": key})


def _held_days_sql() -> str:
    """SQL for the days an item was held in [start, as_of] (params: as_of, as_of, start)."""
    if connection.vendor == "postgresql":
        return "(LEAST(COALESCE(end_date - 1, %s), %s) - GREATEST(date, %s) + 1)"
    return "(julianday(MIN(COALESCE(date(end_date, '-1 day'), %s), %s)) - julianday(MAX(date, %s)) + 1)"


def _void_sql(expr: dict) -> tuple[str, list]:
    """SQL for 1 when an item ended too early to earn (see the module's docstring), else 0, and its params."""
    years, days = expr.get("void_if_ended_within_years"), expr.get("void_if_ended_within_days")
    postgresql = connection.vendor == "postgresql"
    if years is not None:
        # Calendar years, not 365 days: on its maturity day a deposit has run its full term. On
        # 29 February PostgreSQL's year later is 28 February, SQLite's 1 March.
        if postgresql:
            return "CASE WHEN end_date IS NOT NULL AND end_date < date + make_interval(years => %s) THEN 1 ELSE 0 END", [years]
        return "CASE WHEN end_date IS NOT NULL AND end_date < date(date, %s) THEN 1 ELSE 0 END", [f"+{years} years"]
    if days is None:
        return "0", []
    if postgresql:
        return "CASE WHEN end_date IS NOT NULL AND end_date <= date + %s THEN 1 ELSE 0 END", [days]
    return "CASE WHEN end_date IS NOT NULL AND end_date <= date(date, %s) THEN 1 ELSE 0 END", [f"+{days} days"]


def _in(values: list) -> str:
    return ", ".join(["%s"] * len(values))


def evaluate(expr: dict, start: datetime.date, as_of: datetime.date) -> dict[int, Decimal]:
    """Every subject's value of the item figure ``expr`` for the period [start, as_of]."""
    kinds = _kinds(expr["items"], "items")
    among = _kinds(expr.get("among", kinds), "among")
    stacked = sorted(set(kinds) | set(among))
    level = LEVELS[expr.get("level", "unit")]
    measure = expr.get("measure", "sum")
    value = "1" if measure == "count" else "amount"
    if measure == "daily_average":
        weight, weight_params = _held_days_sql(), [as_of, as_of, start]
        # Held in the period: dated by its end, and not gone before it started.
        where = "date <= %s AND (end_date IS NULL OR end_date > %s)"
        where_params = [as_of, start]
        divisor = Decimal((as_of - start).days + 1)
    else:
        weight, weight_params = "1", []
        where = "date >= %s AND date <= %s AND (end_date IS NULL OR end_date > %s)"
        where_params = [start, as_of, as_of]
        divisor = Decimal(1)
    bar = Decimal(str(expr.get("above", "0"))) * divisor
    void, void_params = _void_sql(expr)
    sql = f"""
        WITH held AS (
            SELECT subject_id, kind, item_no, date, {value} * {weight} AS weighted, {void} AS void
            FROM rewards_businessitem
            WHERE subject_kind = %s AND kind IN ({_in(stacked)}) AND {where}
        ), stacked AS (
            SELECT subject_id, kind, weighted, void,
                   SUM(weighted) OVER (
                       PARTITION BY subject_id ORDER BY date, item_no ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
                   ) AS reached
            FROM held
            WHERE kind IN ({_in(among)})
        )
        SELECT subject_id,
               SUM(CASE WHEN kind NOT IN ({_in(kinds)}) OR void = 1 THEN 0
                        WHEN reached - weighted >= CAST(%s AS NUMERIC) THEN weighted
                        WHEN reached > CAST(%s AS NUMERIC) THEN reached - CAST(%s AS NUMERIC)
                        ELSE 0 END)
        FROM stacked
        GROUP BY subject_id
    """
    params = [*weight_params, *void_params, level, *stacked, *where_params, *among, *kinds, bar, bar, bar]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return {subject_id: Decimal(str(total)) / divisor for subject_id, total in rows}
