"""Figures read across subjects and months: a unit from its staff, staff from their unit, one unit
for everyone, and counts of months (streaks) — each still one query (or one per month) for all.

``rewards.figures`` dispatches here; see its docstring for the expressions. Every function takes
the asking ``FigureBook`` (its dates and campaign) and returns ``{subject id: value}``.
"""

from __future__ import annotations

import calendar
import datetime
import operator
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

ACROSS_KEYS = ("difference", "of_unit", "across_staff", "unit_of", "months")
AGGREGATES = ("min", "max", "sum", "count")
COUNTS = ("all", "streak")
OPERATORS = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt, "==": operator.eq}


class Everyone(dict):
    """A figure with one value for every subject (a constant, or one unit's figure for all).

    Empty as a mapping (it lists no subjects, so it never widens who a rule is about), but every
    subject is ``in`` it and reads its value: a condition on it holds or fails for all alike.
    A value of None means the figure is missing: nobody has it.
    """

    def __init__(self, value: Decimal | None):
        super().__init__()
        self.value = value

    def __contains__(self, key) -> bool:
        return self.value is not None

    def __missing__(self, key):
        if self.value is None:
            raise KeyError(key)
        return self.value

    def get(self, key, default=None):
        return default if self.value is None else self.value


def subjects_of(parts: list[dict]) -> set | None:
    """The subjects having every part; None when every part is an ``Everyone`` (no list)."""
    listed = [set(part) for part in parts if not isinstance(part, Everyone)]
    if any(isinstance(part, Everyone) and part.value is None for part in parts):
        return set()
    return set.intersection(*listed) if listed else None


def _number(expr: dict, key: str, where: str) -> None:
    try:
        Decimal(str(expr[key]))
    except (KeyError, ArithmeticError) as error:
        raise ValidationError(
            _("%(where)s.%(key)s: give a number.") % {"where": where, "key": key}
        ) from error


def validate(expr: dict, where: str, validate_expression, level_of, staff: int, unit: int) -> None:
    """Check an across-figure (``expr`` has one of ``ACROSS_KEYS``); errors name ``where``."""
    if "difference" in expr:
        parts = expr["difference"]
        if not isinstance(parts, list) or len(parts) != 2:
            raise ValidationError(_("%(where)s.difference: give [figure, figure subtracted].") % {"where": where})
        for index, part in enumerate(parts):
            validate_expression(part, f"{where}.difference[{index}]")
    elif "of_unit" in expr:
        if not isinstance(expr["of_unit"], str) or not expr["of_unit"]:
            raise ValidationError(_("%(where)s.of_unit: give a unit code.") % {"where": where})
        validate_expression(expr.get("figure"), f"{where}.figure")
        if level_of(expr["figure"]) != unit:
            raise ValidationError(_("%(where)s.figure: must be a unit figure.") % {"where": where})
    elif "across_staff" in expr:
        validate_expression(expr["across_staff"], f"{where}.across_staff")
        if level_of(expr["across_staff"]) != staff:
            raise ValidationError(_("%(where)s.across_staff: must be a staff figure (level: staff).") % {"where": where})
        if expr.get("aggregate", "min") not in AGGREGATES:
            raise ValidationError(
                _("%(where)s.aggregate: must be one of %(choices)s.") % {"where": where, "choices": ", ".join(AGGREGATES)}
            )
        if "missing" in expr:
            _number(expr, "missing", where)
    elif "unit_of" in expr:
        validate_expression(expr["unit_of"], f"{where}.unit_of")
        if level_of(expr["unit_of"]) != unit:
            raise ValidationError(_("%(where)s.unit_of: must be a unit figure.") % {"where": where})
    else:
        validate_expression(expr["months"], f"{where}.months")
        if expr.get("op", ">=") not in OPERATORS:
            raise ValidationError(_("%(where)s.op: must be one of >=, >, <=, <, ==.") % {"where": where})
        _number(expr, "value", where)
        if expr.get("count", "all") not in COUNTS:
            raise ValidationError(_("%(where)s.count: must be all or streak.") % {"where": where})
        if "before" in expr:
            validate_expression(expr["before"], f"{where}.before")
        if "from" in expr:
            try:
                datetime.date.fromisoformat(str(expr["from"]))
            except ValueError as error:
                raise ValidationError(
                    _("%(where)s.from: %(value)r is not a date (YYYY-MM-DD).") % {"where": where, "value": expr["from"]}
                ) from error


def evaluate(book, expr: dict) -> dict:
    """The values of an across-figure for every subject, asked by ``book``."""
    if "difference" in expr:
        minuend, subtrahend = (book.evaluate(part) for part in expr["difference"])
        subjects = subjects_of([minuend, subtrahend])
        if subjects is None:
            return Everyone(minuend.value - subtrahend.value)
        return {sid: minuend[sid] - subtrahend[sid] for sid in subjects}
    if "of_unit" in expr:
        return _of_unit(book, expr)
    if "across_staff" in expr:
        return _across_staff(book, expr)
    if "unit_of" in expr:
        return _unit_of(book, expr)
    return _months(book, expr)


def _of_unit(book, expr: dict) -> Everyone:
    from branches.models import Unit

    pk = Unit.objects.filter(code=expr["of_unit"]).values_list("pk", flat=True).first()
    return Everyone(book.evaluate(expr["figure"]).get(pk))


def _units_of_staff(book) -> dict[int, int]:
    from branches.selectors import assignments_on

    return dict(assignments_on(book.as_of).values_list("staff_id", "unit_id"))


def _across_staff(book, expr: dict) -> dict:
    values = book.evaluate(expr["across_staff"])
    missing = Decimal(str(expr["missing"])) if "missing" in expr else None
    by_unit: dict[int, list[Decimal]] = {}
    for staff_id, unit_id in _units_of_staff(book).items():
        value = values.get(staff_id, missing)
        if value is not None:
            by_unit.setdefault(unit_id, []).append(value)
    aggregate = expr.get("aggregate", "min")
    if aggregate == "count":
        return {unit_id: Decimal(len(found)) for unit_id, found in by_unit.items()}
    combine = {"min": min, "max": max, "sum": lambda found: sum(found, Decimal(0))}[aggregate]
    return {unit_id: combine(found) for unit_id, found in by_unit.items()}


def _unit_of(book, expr: dict) -> dict:
    values = book.evaluate(expr["unit_of"])
    return {staff_id: values[unit_id] for staff_id, unit_id in _units_of_staff(book).items() if unit_id in values}


def month_spans(first: datetime.date, last: datetime.date) -> list[tuple[datetime.date, datetime.date]]:
    """Calendar months from ``first`` to ``last`` (the first and last possibly partial)."""
    spans, start = [], first
    while start <= last:
        end = min(start.replace(day=calendar.monthrange(start.year, start.month)[1]), last)
        spans.append((start, end))
        start = end + datetime.timedelta(days=1)
    return spans


def _months(book, expr: dict) -> dict:
    first = (
        datetime.date.fromisoformat(str(expr["from"])) if "from" in expr else book.campaign_start() or book.start
    )
    compare, bar = OPERATORS[expr.get("op", ">=")], Decimal(str(expr["value"]))
    held: list[set[int]] = []
    seen: set[int] = set()
    for start, end in month_spans(first, book.as_of):
        values = book.sub_book(start, end).evaluate(expr["months"])
        seen |= set(values)
        held.append({sid for sid, value in values.items() if compare(value, bar)})
    before = book.evaluate(expr["before"]) if "before" in expr else {}
    out = {}
    for sid in seen | set(before):
        if expr.get("count", "all") == "all":
            count = sum(1 for month in held if sid in month)
            reaches_back = True
        else:
            count = 0
            for month in reversed(held):
                if sid not in month:
                    break
                count += 1
            reaches_back = count == len(held)
        out[sid] = Decimal(count) + (before.get(sid, Decimal(0)) if reaches_back else Decimal(0))
    return out
