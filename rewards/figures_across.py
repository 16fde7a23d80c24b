"""Figures read across subjects and months: a unit from its staff, staff from their unit, one unit
for everyone, and counts of months (streaks).

``rewards.figures`` dispatches here; see its docstring for the expressions. Every function takes
the asking ``FigureBook`` (its dates and campaign) and returns ``{subject id: value}``.

Set-based at a national bank's size (500,000 staff, 50,000 units): a unit's figure from its staff
is one GROUP BY over the assignments valid on the as-of date, a staff member's figure from their
unit one join, months counted or in a row one window over the month values. A plain fact figure
(``value`` or ``sum``) is read in place inside that statement; any other figure is computed by the
book and staged once in a temporary table (``_rows``).
"""

from __future__ import annotations

import calendar
import contextlib
import datetime
import itertools
import os
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils.translation import gettext as _

ACROSS_KEYS = ("difference", "of_unit", "across_staff", "unit_of", "months")
AGGREGATES = ("min", "max", "sum", "count")
COUNTS = ("all", "streak")


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


def validate(expr: dict, where: str, validate_expression, level_of, staff: int, unit: int) -> None:
    """Check an across-figure (``expr`` has one of ``ACROSS_KEYS``); errors name ``where``."""
    from rewards.rule_base import OPERATORS, _number  # rule_base imports rewards.figures, which imports us

    if "difference" in expr:
        parts = expr["difference"]
        if not isinstance(parts, list) or len(parts) != 2:
            raise ValidationError(
                _("%(where)s.difference: give [figure, figure subtracted].") % {"where": where}
            )
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
            raise ValidationError(
                _("%(where)s.across_staff: must be a staff figure (level: staff).") % {"where": where}
            )
        if expr.get("aggregate", "min") not in AGGREGATES:
            raise ValidationError(
                _("%(where)s.aggregate: must be one of %(choices)s.")
                % {"where": where, "choices": ", ".join(AGGREGATES)}
            )
        if "missing" in expr:
            _number(expr, "missing", f"{where}.missing")
    elif "unit_of" in expr:
        validate_expression(expr["unit_of"], f"{where}.unit_of")
        if level_of(expr["unit_of"]) != unit:
            raise ValidationError(_("%(where)s.unit_of: must be a unit figure.") % {"where": where})
    else:
        validate_expression(expr["months"], f"{where}.months")
        if expr.get("op", ">=") not in OPERATORS:
            raise ValidationError(_("%(where)s.op: must be one of >=, >, <=, <, ==.") % {"where": where})
        _number(expr, "value", f"{where}.value")
        if expr.get("count", "all") not in COUNTS:
            raise ValidationError(_("%(where)s.count: must be all or streak.") % {"where": where})
        if "before" in expr:
            validate_expression(expr["before"], f"{where}.before")
        if "from" in expr:
            try:
                datetime.date.fromisoformat(str(expr["from"]))
            except ValueError as error:
                raise ValidationError(
                    _("%(where)s.from: %(value)r is not a date (YYYY-MM-DD).")
                    % {"where": where, "value": expr["from"]}
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


_STAGES = itertools.count(1)
# A fact figure with only these keys and measures is read by SQL where it is used, never loaded.
_PLAIN_FACT_KEYS = frozenset({"indicator", "measure", "level", "on", "base_date"})

Source = tuple[str, list]
COPY_NULL = "\\N"


def _fact_source(expr: dict, spans: list[tuple[int, datetime.date, datetime.date]]) -> Source | None:
    """SQL of ``(month_no, subject_id, value)`` rows for a plain fact figure read on each span.

    ``spans`` are ``(month_no, start, as_of)``; the figure is computed as ``FigureBook`` does:
    ``value`` on the as-of date (or ``on``), ``sum`` from the start to it. None for any other
    figure: the caller stages the book's values instead.
    """
    measure = expr.get("measure", "value")
    if "indicator" not in expr or not _PLAIN_FACT_KEYS.issuperset(expr) or measure not in ("value", "sum"):
        return None
    from branches.models import Fact, Indicator
    from rewards.figures import LEVELS

    on = datetime.date.fromisoformat(str(expr["on"])) if "on" in expr else None
    spans = [(month_no, start, on or as_of) for month_no, start, as_of in spans]
    periods = " UNION ALL ".join(["SELECT %s AS month_no, %s AS day_from, %s AS day_to"] * len(spans))
    params: list = [value for span in spans for value in span]
    params += [expr["indicator"], LEVELS[expr.get("level", "unit")]]
    fact, indicator = Fact._meta.db_table, Indicator._meta.db_table
    where = f"f.indicator_id IN (SELECT id FROM {indicator} WHERE code = %s) AND f.subject_kind = %s"
    if measure == "value":
        # As FigureBook reads a value: each subject's latest fact on or before the day within that
        # day's month, so a month ending on a Sunday reads the last business day's rate. The date
        # range lets PostgreSQL read only those months' partitions.
        ends = [(month_no, day.replace(day=1), day) for month_no, _start, day in spans]
        periods = " UNION ALL ".join(["SELECT %s AS month_no, %s AS day_from, %s AS day_to"] * len(ends))
        params = [value for span in ends for value in span] + params[len(spans) * 3 :]
        params += [min(first for _month_no, first, _day in ends), max(day for _month_no, _first, day in ends)]
        return (
            "SELECT x.month_no, x.subject_id, x.value FROM ("
            " SELECT p.month_no, f.subject_id, f.value, ROW_NUMBER() OVER ("
            "  PARTITION BY p.month_no, f.subject_id ORDER BY f.business_date DESC) AS latest"
            f" FROM {fact} f JOIN ({periods}) p ON f.business_date BETWEEN p.day_from AND p.day_to"
            f" WHERE {where} AND f.business_date BETWEEN %s AND %s"
            ") x WHERE x.latest = 1",
            params,
        )
    params += [min(start for _month_no, start, _day in spans), max(day for _month_no, _start, day in spans)]
    return (
        f"SELECT p.month_no, f.subject_id, SUM(f.value) AS value FROM {fact} f"
        f" JOIN ({periods}) p ON f.business_date BETWEEN p.day_from AND p.day_to"
        f" WHERE {where} AND f.business_date BETWEEN %s AND %s GROUP BY p.month_no, f.subject_id",
        params,
    )


@contextlib.contextmanager
def _rows(sources: list[Source], staged: list[tuple] | None):
    """Yields ``(cursor, sql, params)``: a subquery of ``(month_no, subject_id, value)`` rows.

    It unites the fact figures read in place (``sources``) and, when ``staged`` is not None, a
    temporary table of values the book computed in Python (a figure may come from stored results,
    items or arithmetic): those go to the database once, by COPY, so the aggregation over staff or
    months runs there. Inside its own atomic block: an error rolls the table away.
    """
    if staged is None:
        with connection.cursor() as cursor:
            yield cursor, *_union(sources)
        return
    pg = connection.vendor == "postgresql"
    table = f"kmh_across_{os.getpid()}_{next(_STAGES)}"
    with transaction.atomic(), connection.cursor() as cursor:
        # numeric without a scale on PostgreSQL: a rate or a quotient is staged exactly as computed.
        cursor.execute(
            f"CREATE TEMP TABLE {table} (month_no integer NOT NULL, subject_id bigint NOT NULL, value numeric)"
            + (" ON COMMIT DROP" if pg else "")
        )
        if pg:
            # COPY's text format built in one piece: cheaper than write_row's per-row adaptation.
            with cursor.cursor.copy(f"COPY {table} (month_no, subject_id, value) FROM STDIN") as copy:
                copy.write(
                    "".join(
                        f"{month_no}\t{sid}\t{COPY_NULL if value is None else value}\n"
                        for month_no, sid, value in staged
                    )
                )
        else:
            insert = f"INSERT INTO {table} (month_no, subject_id, value) VALUES (%s, %s, %s)"
            text = ((month_no, sid, None if value is None else str(value)) for month_no, sid, value in staged)
            while chunk := list(itertools.islice(text, 5000)):
                cursor.executemany(insert, chunk)
        yield cursor, *_union([*sources, (f"SELECT month_no, subject_id, value FROM {table}", [])])
        cursor.execute(f"DROP TABLE {table}")


def _union(sources: list[Source]) -> tuple[str, list]:
    return " UNION ALL ".join(sql for sql, _params in sources), [
        p for _sql, params in sources for p in params
    ]


def _assigned(book) -> tuple[str, tuple]:
    from branches.selectors import assignments_on

    sql, params = assignments_on(book.as_of).values("staff_id", "unit_id").order_by().query.sql_with_params()
    return f"({sql})", params


def _decimal(value) -> Decimal | None:
    # SQLite hands back int or float (it computes in floats); PostgreSQL a Decimal already.
    return value if value is None or isinstance(value, Decimal) else Decimal(str(value))


def _values_rows(values: dict, month_no: int = 0) -> list[tuple]:
    return [] if isinstance(values, Everyone) else [(month_no, sid, value) for sid, value in values.items()]


def _figure_rows(book, expr: dict, month_no: int = 0) -> tuple[list[Source], list | None, dict]:
    """``(sources, staged rows or None, evaluated)`` of one figure on the book's dates.

    A plain fact figure stays in SQL (``evaluated`` is then empty); any other is evaluated.
    """
    source = _fact_source(expr, [(month_no, book.start, book.as_of)])
    if source is not None:
        return [source], None, {}
    values = book.evaluate(expr)
    return [], _values_rows(values, month_no), values


def _across_staff(book, expr: dict) -> dict:
    """One GROUP BY unit over the staff assigned on the as-of date, joined to their values."""
    sources, staged, values = _figure_rows(book, expr["across_staff"])
    missing = Decimal(str(expr["missing"])) if "missing" in expr else None
    if isinstance(values, Everyone) and values.value is not None:
        missing = values.value  # one value for every staff member: none is missing
    aggregate = expr.get("aggregate", "min")
    combine = "COUNT(*)" if aggregate == "count" else f"{aggregate.upper()}(v.value)"
    assigned, assigned_params = _assigned(book)
    with _rows(sources, staged) as (cursor, rows, rows_params):
        if missing is None:  # staff without the figure are left out; a unit without any, too
            joined, value, params = f"JOIN ({rows}) s ON s.subject_id = a.staff_id", "s.value", []
        else:  # only staff absent from the figure count as ``missing``
            joined = f"LEFT JOIN ({rows}) s ON s.subject_id = a.staff_id"
            value = "CASE WHEN s.subject_id IS NULL THEN CAST(%s AS NUMERIC) ELSE s.value END"
            params = [str(missing)]
        cursor.execute(
            f"SELECT v.unit_id, {combine} FROM (SELECT a.unit_id, {value} AS value FROM {assigned} a {joined}) v"
            " WHERE v.value IS NOT NULL GROUP BY v.unit_id",
            [*params, *assigned_params, *rows_params],
        )
        return {unit_id: _decimal(found) for unit_id, found in cursor.fetchall()}


def _placed(book) -> tuple[str, list]:
    from rewards.placement import main_units_sql

    return main_units_sql(book.start, book.as_of)


def _unit_of(book, expr: dict) -> dict:
    """Each staff member joined to the value of the unit their reward belongs to: the unit they
    were assigned to for most of the book's window (``rewards.placement``), as on their line."""
    sources, staged, values = _figure_rows(book, expr["unit_of"])
    assigned, assigned_params = _placed(book)
    if isinstance(values, Everyone):
        if values.value is None:
            return {}
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT a.staff_id FROM {assigned} a", assigned_params)
            return {staff_id: values.value for (staff_id,) in cursor.fetchall()}
    with _rows(sources, staged) as (cursor, rows, rows_params):
        cursor.execute(
            f"SELECT a.staff_id, s.value FROM {assigned} a JOIN ({rows}) s ON s.subject_id = a.unit_id",
            [*assigned_params, *rows_params],
        )
        return {staff_id: _decimal(value) for staff_id, value in cursor.fetchall()}


def month_spans(first: datetime.date, last: datetime.date) -> list[tuple[datetime.date, datetime.date]]:
    """Calendar months from ``first`` to ``last`` (the first and last possibly partial)."""
    spans, start = [], first
    while start <= last:
        end = min(start.replace(day=calendar.monthrange(start.year, start.month)[1]), last)
        spans.append((start, end))
        start = end + datetime.timedelta(days=1)
    return spans


def _months(book, expr: dict) -> dict:
    """Months held, counted in SQL over every subject's month values (month 0: the months before).

    A streak is the island of held months ending in the last month (gaps and islands): numbering a
    subject's held months from the last backwards (``place``), a month of that island has its number
    plus its place equal to the last month's number plus one; the first gap breaks the equality for
    good. The months before count for ``all``, and for a streak reaching back to the first month.
    """
    from rewards.rule_base import OPERATORS

    first = (
        datetime.date.fromisoformat(str(expr["from"]))
        if "from" in expr
        else book.campaign_start() or book.start
    )
    op = expr.get("op", ">=")
    if op not in OPERATORS:  # never reaches the SQL unless it is one of ours
        raise ValidationError(_("months.op: must be one of >=, >, <=, <, ==."))
    spans = [
        (month_no, start, end)
        for month_no, (start, end) in enumerate(month_spans(first, book.as_of), start=1)
    ]
    sources: list[Source] = []
    staged: list[tuple] | None = None
    month_source = _fact_source(expr["months"], spans) if spans else None
    if month_source is not None:
        sources.append(month_source)
    else:
        staged = []
        for month_no, start, end in spans:
            values = book.sub_book(start, end).evaluate(expr["months"])
            # One value for everyone lists no subject and holds for none (as a subject-less figure).
            staged += _values_rows(values, month_no)
    default_before = Decimal(0)
    if "before" in expr:
        before_sources, before_staged, before = _figure_rows(book, expr["before"])
        sources += before_sources
        if before_staged is not None:
            staged = (staged or []) + before_staged
        if isinstance(before, Everyone) and before.value is not None:
            default_before = before.value  # one number of months before for everyone
    months = len(spans)
    if expr.get("count", "all") == "all":
        count, reaches_back = "c.held", "1 = 1"
    else:
        count, reaches_back = "c.streak", f"c.streak = {months}"
    with _rows(sources, staged) as (cursor, rows, rows_params):
        cursor.execute(
            f"""
            WITH marked AS (
                SELECT subject_id, month_no, value, held,
                       ROW_NUMBER() OVER (PARTITION BY subject_id, held ORDER BY month_no DESC) AS place
                FROM (
                    SELECT subject_id, month_no, value,
                           CASE WHEN month_no > 0 AND value {"=" if op == "==" else op} CAST(%s AS NUMERIC)
                                THEN 1 ELSE 0 END AS held
                    FROM ({rows}) figures
                ) f
            ), counted AS (
                SELECT subject_id, SUM(held) AS held,
                       SUM(CASE WHEN held = 1 AND month_no + place = {months + 1} THEN 1 ELSE 0 END) AS streak,
                       MAX(CASE WHEN month_no = 0 THEN value END) AS before
                FROM marked GROUP BY subject_id
            )
            SELECT c.subject_id,
                   {count} + CASE WHEN {reaches_back} THEN COALESCE(c.before, CAST(%s AS NUMERIC)) ELSE 0 END
            FROM counted c
            """,
            [str(Decimal(str(expr["value"]))), *rows_params, str(default_before)],
        )
        return {sid: _decimal(value) for sid, value in cursor.fetchall()}
