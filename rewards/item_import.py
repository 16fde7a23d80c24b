"""Loading business items (deposits, policies) from a spreadsheet or rows: all or nothing.

A file's first row names the columns (English or Chinese): ``staff`` (工号) or ``unit`` (机构号),
``kind`` (类别), ``item_no`` (编号), ``date`` (日期), ``amount`` (金额), and optionally
``end_date`` (结束日期: withdrawn or surrendered on). An item is keyed by (kind, item number): a
second load updates it (a withdrawal date learnt later, a corrected amount). A kind must be one a
reward rule reads (``known_item_kinds``): items of a misspelt kind would be stored and never paid.
Every problem is reported with its row and column and nothing is written while any remains.

``manage.py import_items FILE`` runs it from a shell.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils.translation import gettext as _

from branches.imports.reader import read_table
from branches.models import Staff, SubjectKind, Unit
from rewards.models import BusinessItem, RewardRule
from rewards.references import item_kinds

HEADERS = {
    "staff": "staff", "工号": "staff", "员工号": "staff",
    "unit": "unit", "机构号": "unit",
    "kind": "kind", "类别": "kind",
    "item_no": "item_no", "编号": "item_no", "账号": "item_no", "保单号": "item_no",
    "date": "date", "日期": "date",
    "amount": "amount", "金额": "amount",
    "end_date": "end_date", "结束日期": "end_date",
}
REQUIRED = ("kind", "item_no", "date", "amount")


@dataclass
class ItemImportResult:
    written: int = 0
    errors: list[tuple[int, str, str]] = field(default_factory=list)  # (row, column, message)

    @property
    def ok(self) -> bool:
        return not self.errors


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _day(value) -> datetime.date:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    return datetime.date.fromisoformat(_text(value))


def _parse(row_no: int, record: dict, errors: list) -> dict | None:
    bad = len(errors)
    for column in REQUIRED:
        if not _text(record.get(column)):
            errors.append((row_no, column, _("required")))
    staff, unit = _text(record.get("staff")), _text(record.get("unit"))
    if bool(staff) == bool(unit):
        errors.append((row_no, "staff", _("give either a staff member's number or a unit code")))
    if len(errors) > bad:
        return None
    item = {"staff": staff, "unit": unit, "kind": _text(record["kind"]), "item_no": _text(record["item_no"])}
    for column in ("date", "end_date"):
        if column == "end_date" and not _text(record.get(column)):
            item[column] = None
            continue
        try:
            item[column] = _day(record[column])
        except ValueError:
            errors.append((row_no, column, _("%(value)r is not a date (YYYY-MM-DD)") % {"value": record[column]}))
    try:
        item["amount"] = Decimal(_text(record["amount"]).replace(",", ""))
        if not item["amount"].is_finite() or item["amount"] <= 0:
            raise InvalidOperation
    except InvalidOperation:
        errors.append((row_no, "amount", _("a positive number of yuan is required")))
    if len(errors) > bad:
        return None
    # Ended on its own date (withdrawn the day it was made) is real and weighs 0 days.
    if item["end_date"] is not None and item["end_date"] < item["date"]:
        errors.append((row_no, "end_date", _("must not be before the date")))
        return None
    return item


def known_item_kinds() -> set[str]:
    """The item kinds some reward rule reads (item figures' ``items``/``among``, ``item_bands``)."""
    kinds: set[str] = set()
    for params in RewardRule.objects.values_list("params", flat=True):
        kinds |= item_kinds(params)
    return kinds


def import_items(records: list[tuple[int, dict]]) -> ItemImportResult:
    """Store ``records`` (row number, {column: value}); nothing is written if any row is wrong."""
    result = ItemImportResult()
    items = [(row_no, item) for row_no, record in records if (item := _parse(row_no, record, result.errors))]
    known = known_item_kinds()
    for row_no, item in [(row_no, item) for row_no, item in items if item["kind"] not in known]:
        result.errors.append(
            (row_no, "kind", _("%(kind)s is not a kind any reward rule reads (known: %(known)s)")
             % {"kind": item["kind"], "known": ", ".join(sorted(known)) or "—"})
        )
    items = [(row_no, item) for row_no, item in items if item["kind"] in known]
    staff = dict(Staff.objects.filter(employee_no__in={i["staff"] for _n, i in items if i["staff"]}).values_list("employee_no", "pk"))
    units = dict(Unit.objects.filter(code__in={i["unit"] for _n, i in items if i["unit"]}).values_list("code", "pk"))
    rows, seen = [], {}
    for row_no, item in items:
        kind, subject = (SubjectKind.STAFF, staff.get(item["staff"])) if item["staff"] else (SubjectKind.UNIT, units.get(item["unit"]))
        if subject is None:
            column = "staff" if item["staff"] else "unit"
            result.errors.append((row_no, column, _("unknown code %(code)s") % {"code": item[column]}))
            continue
        key = (item["kind"], item["item_no"])
        if key in seen:
            result.errors.append((row_no, "item_no", _("also on row %(row)s") % {"row": seen[key]}))
            continue
        seen[key] = row_no
        rows.append(
            BusinessItem(
                subject_kind=kind, subject_id=subject, kind=item["kind"], item_no=item["item_no"],
                date=item["date"], end_date=item["end_date"], amount=item["amount"],
            )
        )
    if result.errors:
        result.errors.sort()
        return result
    with transaction.atomic():
        BusinessItem.objects.bulk_create(
            rows,
            batch_size=5000,
            update_conflicts=True,
            unique_fields=["kind", "item_no"],
            update_fields=["subject_kind", "subject_id", "date", "end_date", "amount"],
        )
    result.written = len(rows)
    return result


def import_item_file(path, *, filename: str = "") -> ItemImportResult:
    """Read a spreadsheet (.xlsx, .xls, .csv) whose first row names the columns, then ``import_items``."""
    table = read_table(path, filename=filename)
    if not table.rows:
        return ItemImportResult(errors=[(0, "", _("the file has no rows"))])
    header_row, header = table.rows[0]
    columns = [HEADERS.get(_text(cell).lower(), HEADERS.get(_text(cell))) for cell in header]
    missing = [name for name in REQUIRED if name not in columns]
    if missing or ("staff" not in columns and "unit" not in columns):
        return ItemImportResult(
            errors=[(header_row, name, _("column missing")) for name in missing or ["staff"]]
        )
    records = [
        (row_no, {name: cell for name, cell in zip(columns, cells, strict=False) if name})
        for row_no, cells in table.rows[1:]
    ]
    return import_items(records)
