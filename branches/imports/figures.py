"""Daily figures from a file or an API batch: parse, validate against the organisation and the
indicator catalogue, then preview or merge through ``branches.facts`` (the one write path).

Two file layouts are understood:

* wide — one column per indicator (headed by its code, name or English name, optionally with a
  unit such as "(万元)"), one row per unit or staff member and date;
* long — an indicator column (指标) and a value column (数值), one figure per row.

A row names its subject by employee number (工号) when that cell is filled, else by unit code
(机构号). Without a date column the date given with the upload is used. In a wide file an empty
cell means "no figure for this indicator" and is skipped (the preview says how many).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from branches.imports import values
from branches.imports.errors import RowError
from branches.imports.headers import Column, HeaderMap, cell, indicator_lookup, locate_header, normalise
from branches.imports.reader import Table
from branches.models import Indicator, Measure, Staff, SubjectKind, Unit

UNIT_CODE = Column(
    "unit_code",
    gettext_lazy("unit code (机构号)"),
    ("机构号", "机构代码", "机构编码", "机构编号", "网点号", "网点代码", "单位代码", "unit", "unit code", "branch code"),
)
EMPLOYEE_NO = Column(
    "employee_no",
    gettext_lazy("employee number (工号)"),
    ("工号", "员工号", "员工编号", "人员编号", "柜员号", "营销员代码", "employee number", "employee", "staff no"),
)
BUSINESS_DATE = Column(
    "business_date", gettext_lazy("date (日期)"), ("日期", "业务日期", "数据日期", "统计日期", "date")
)
INDICATOR = Column(
    "indicator", gettext_lazy("indicator (指标)"), ("指标", "指标代码", "指标名称", "指标编码", "indicator code", "metric")
)
VALUE = Column("value", gettext_lazy("value (数值)"), ("数值", "值", "指标值", "value", "amount"))
FIGURE_COLUMNS = (UNIT_CODE, EMPLOYEE_NO, BUSINESS_DATE, INDICATOR, VALUE)


@dataclass
class FigureRecord:
    """One figure as read, before the codes are resolved."""

    row_no: int
    column: str
    unit_code: str
    employee_no: str
    business_date: object
    indicator: object  # an Indicator (wide files) or the code/name as written (long files, API)
    value: object
    scale: Decimal = Decimal(1)


@dataclass(frozen=True)
class FigureRow:
    """A valid figure, keyed as a Fact is; ``label`` is what the preview shows for its key."""

    row_no: int
    indicator_id: int
    subject_kind: int
    subject_id: int
    business_date: datetime.date
    value: Decimal
    label: str

    @property
    def key(self) -> tuple:
        return (self.indicator_id, self.subject_kind, self.subject_id, self.business_date)


@dataclass(frozen=True)
class Repeat:
    """A figure given again (in ``row_no``) with the same value: written once, from ``first_row``."""

    row_no: int
    first_row: int
    label: str
    value: Decimal


def locate_figure_header(table: Table, *, default_date: datetime.date | None) -> HeaderMap:
    indicators = indicator_lookup(Indicator.objects.all())

    def missing(index_of, indicator_columns):
        absent = []
        if "unit_code" not in index_of and "employee_no" not in index_of:
            absent.append(f"{UNIT_CODE.label} / {EMPLOYEE_NO.label}")
        if "business_date" not in index_of and default_date is None:
            absent.append(str(BUSINESS_DATE.label))
        long_layout = "indicator" in index_of and "value" in index_of
        if not long_layout and not indicator_columns:
            absent.append(_("an indicator column (its code or name, e.g. 存款余额), or 指标 + 数值"))
        return absent

    return locate_header(table, FIGURE_COLUMNS, indicators=indicators, missing=missing)


FIGURE_FIELDS = ("row_no", "column", "unit_code", "employee_no", "business_date", "indicator", "value")


def figure_rows(table: Table, header: HeaderMap, *, default_date=None) -> tuple[list[tuple], int]:
    """One tuple (FIGURE_FIELDS) per figure below the header, and the number of empty cells skipped.

    A wide row gives one figure per filled indicator cell, its ``indicator`` being the header as
    written (a bracketed unit such as "(万元)" is read again when the figure is checked).
    """
    figures = []
    skipped = 0
    index_of = header.index_of
    long_layout = "indicator" in index_of and "value" in index_of
    unit_index, staff_index = index_of.get("unit_code"), index_of.get("employee_no")
    date_index = index_of.get("business_date")
    wide_columns = [(index, header.label(index)) for index in header.indicator_columns]
    for row_no, cells in table.rows:
        if row_no <= header.header_row_no:
            continue
        unit_code = cell(cells, unit_index)
        employee_no = cell(cells, staff_index)
        business_date = cell(cells, date_index) if date_index is not None else default_date
        if long_layout:
            figures.append(
                (row_no, header.label(index_of["value"]), unit_code, employee_no, business_date,
                 cell(cells, index_of["indicator"]), cell(cells, index_of["value"]))
            )
            continue
        for index, label in wide_columns:
            raw = cell(cells, index)
            if values.is_empty(raw):
                skipped += 1
                continue
            figures.append((row_no, label, unit_code, employee_no, business_date, label, raw))
    return figures, skipped


def validate_records(
    records: list[FigureRecord],
    *,
    columns: dict[str, str] | None = None,
    writable_unit_path: str | None = None,
    outcomes: list | None = None,
) -> tuple[list[FigureRow], dict[int, list[RowError]]]:
    """Resolve codes (three queries in all) and check every value.

    Returns the valid rows and, per row number, its errors. Checks: subject and indicator exist;
    the date parses and, once campaigns exist, falls inside one or the year before it (bases) —
    the same window ``branches.facts`` enforces; counts are whole and not
    negative; rates lie between 0 and 100 %; the same key twice with different values. When
    ``writable_unit_path`` is given (an API token's scope), subjects outside it are refused.
    ``columns`` names the key columns as the user's file heads them. When ``outcomes`` is given,
    it receives one entry per record, in order: its FigureRow, the list of its own errors, or a
    :class:`Repeat` (the same figure as an earlier row, written once).
    """
    columns = {
        "unit_code": str(UNIT_CODE.label),
        "employee_no": str(EMPLOYEE_NO.label),
        "business_date": str(BUSINESS_DATE.label),
        "indicator": str(INDICATOR.label),
        **(columns or {}),
    }
    unit_codes = {values.parse_code(r.unit_code) for r in records if not values.is_empty(r.unit_code)}
    employee_nos = {values.parse_code(r.employee_no) for r in records if not values.is_empty(r.employee_no)}
    units = {code: (pk, path) for code, pk, path in Unit.objects.filter(code__in=unit_codes).values_list("code", "pk", "path")}
    staff = {
        no: (pk, path)
        for no, pk, path in Staff.objects.filter(employee_no__in=employee_nos).values_list("employee_no", "pk", "unit__path")
    }
    indicators_by_word = indicator_lookup(Indicator.objects.all())
    campaign_periods = _campaign_periods()

    errors: dict[int, list[RowError]] = {}
    rows: list[FigureRow] = []
    seen: dict[tuple, tuple[int, Decimal]] = {}

    def fail(record, column, message):
        errors.setdefault(record.row_no, []).append(RowError(record.row_no, column, message))

    for record in records:
        before = len(errors.get(record.row_no, ()))
        subject = _resolve_subject(record, units, staff, columns, fail)
        indicator = _resolve_indicator(record, indicators_by_word, columns, fail)
        day = None
        if values.is_empty(record.business_date):
            fail(record, columns["business_date"], _("the date is empty"))
        else:
            try:
                day = values.parse_date(record.business_date)
            except ValueError as error:
                fail(record, columns["business_date"], str(error))
        if day is not None and campaign_periods and not _inside_some_campaign(day, campaign_periods):
            fail(record, columns["business_date"], _("%(date)s lies outside every campaign (and the year before it)") % {"date": day})
        value = None
        if indicator is not None:
            value = _check_value(record, indicator, fail)
        if subject is not None and writable_unit_path and not subject[2].startswith(writable_unit_path):
            fail(record, subject[3], _("%(code)s is outside the units this account may write") % {"code": subject[4]})
        if len(errors.get(record.row_no, ())) > before or None in (subject, indicator, day, value):
            if outcomes is not None:
                outcomes.append(errors.get(record.row_no, [])[before:])
            continue
        kind, subject_id, _path, _column, code = subject
        key = (indicator.pk, kind, subject_id, day)
        if key in seen:
            first_row, first_value = seen[key]
            if first_value != value:
                fail(
                    record,
                    record.column,
                    _("%(key)s appears again with a different value (row %(row)s has %(value)s)")
                    % {"key": f"{code} · {indicator.name} · {day}", "row": first_row, "value": first_value},
                )
                if outcomes is not None:
                    outcomes.append(errors[record.row_no][before:])
            elif outcomes is not None:
                outcomes.append(Repeat(record.row_no, first_row, f"{code} · {indicator.name} · {day}", value))
            continue  # the same figure twice: written once
        seen[key] = (record.row_no, value)
        rows.append(
            FigureRow(
                row_no=record.row_no,
                indicator_id=indicator.pk,
                subject_kind=kind,
                subject_id=subject_id,
                business_date=day,
                value=value,
                label=f"{code} · {indicator.name} · {day}",
            )
        )
        if outcomes is not None:
            outcomes.append(rows[-1])
    return rows, errors


def _resolve_subject(record, units, staff, columns, fail):
    if not values.is_empty(record.employee_no):
        number = values.parse_code(record.employee_no)
        if number not in staff:
            fail(record, columns["employee_no"], _("no staff member with employee number %(no)s") % {"no": number})
            return None
        pk, path = staff[number]
        return SubjectKind.STAFF, pk, path, columns["employee_no"], number
    if values.is_empty(record.unit_code):
        fail(record, columns["unit_code"], _("neither a unit code nor an employee number is given"))
        return None
    code = values.parse_code(record.unit_code)
    if code not in units:
        fail(record, columns["unit_code"], _("no unit with code %(code)s") % {"code": code})
        return None
    pk, path = units[code]
    return SubjectKind.UNIT, pk, path, columns["unit_code"], code


def _resolve_indicator(record, indicators_by_word, columns, fail):
    if isinstance(record.indicator, Indicator):
        return record.indicator
    if values.is_empty(record.indicator):
        fail(record, columns["indicator"], _("the indicator is empty"))
        return None
    word, scale = normalise(record.indicator)
    indicator = indicators_by_word.get(word)
    if indicator is None:
        fail(record, columns["indicator"], _("no indicator %(name)s") % {"name": record.indicator})
        return None
    record.scale = record.scale * scale
    return indicator


def _check_value(record, indicator, fail):
    if values.is_empty(record.value):
        fail(record, record.column, _("the value is empty"))
        return None
    try:
        number = values.parse_decimal(record.value, allow_percent=indicator.measure == Measure.RATE)
    except ValueError as error:
        fail(record, record.column, str(error))
        return None
    number = number * record.scale
    if indicator.measure == Measure.COUNT:
        if number < 0:
            fail(record, record.column, _("a count cannot be negative (%(value)s)") % {"value": number})
            return None
        if number != number.to_integral_value():
            fail(record, record.column, _("a count must be a whole number (%(value)s)") % {"value": number})
            return None
    if indicator.measure == Measure.RATE and not (0 <= number <= 1):
        fail(
            record,
            record.column,
            _("a rate must lie between 0 and 100 %% (%(value)s); write 0.97 or 97%%") % {"value": record.value},
        )
        return None
    if number != number.quantize(Decimal("0.0001")):
        fail(record, record.column, _("%(value)s has more than 4 decimal places") % {"value": record.value})
        return None
    return number


def _campaign_periods() -> list[tuple[datetime.date, datetime.date]]:
    from campaigns.models import Campaign

    return list(Campaign.objects.values_list("start_date", "end_date"))


def _inside_some_campaign(day, periods: Iterable[tuple[datetime.date, datetime.date]]) -> bool:
    return any(start - datetime.timedelta(days=366) <= day <= end for start, end in periods)
