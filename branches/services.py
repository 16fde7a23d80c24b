"""Writes to the organisation: one function per action a planner or the data team takes.

Each keeps the materialised paths and the staff history consistent, in one transaction. The
file imports (``import_units``, ``import_staff``) write a whole file with a handful of set-based
statements through a staging table, whatever its length.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F, Value
from django.db.models.functions import Concat, Length, Substr
from django.utils.translation import gettext as _

from branches.models import PATH_SEPARATOR, Position, Staff, StaffAssignment, Unit


def create_unit(
    *,
    code: str,
    name: str,
    kind: str,
    parent: Unit | None = None,
    category: str = "",
    name_en: str = "",
    active_from: datetime.date | None = None,
) -> Unit:
    """Create a unit under ``parent``. Raises ValidationError naming the field on bad input."""
    unit = Unit(code=code, name=name, kind=kind, parent=parent, category=category, name_en=name_en)
    if active_from is not None:
        unit.active_from = active_from
    unit.path = unit.compute_path()
    unit.full_clean(exclude=["path", "depth"])
    unit.save()
    return unit


@transaction.atomic
def move_unit(unit: Unit, *, new_parent: Unit) -> Unit:
    """Re-parent ``unit`` and its whole subtree with one UPDATE of the paths."""
    if new_parent.path.startswith(unit.path):
        raise ValidationError({"parent": _("A unit cannot be moved under itself or one of its own sub-units.")})
    old_path = unit.path
    unit.parent = new_parent
    new_path = unit.compute_path()
    depth_change = new_path.count("/") - old_path.count("/")
    Unit.objects.filter(path__startswith=old_path).update(
        path=Concat(Value(new_path), Substr("path", len(old_path) + 1, Length("path"))),
        depth=F("depth") + depth_change,
    )
    Unit.objects.filter(pk=unit.pk).update(parent=new_parent)
    unit.refresh_from_db()
    return unit


@transaction.atomic
def close_unit(unit: Unit, *, on: datetime.date, merged_into: Unit | None = None) -> Unit:
    """Close a unit at the end of ``on`` (its last active day), optionally merged into another."""
    if on < unit.active_from:
        raise ValidationError({"active_to": _("A unit cannot close before it opened.")})
    if merged_into is not None and merged_into.pk == unit.pk:
        raise ValidationError({"merged_into": _("A unit cannot be merged into itself.")})
    unit.active_to = on
    unit.merged_into = merged_into
    unit.save(update_fields=["active_to", "merged_into"])
    return unit


@transaction.atomic
def hire_staff(
    *,
    employee_no: str,
    name: str,
    unit: Unit,
    position: str = Position.STAFF,
    on: datetime.date,
    attributes: dict | None = None,
) -> Staff:
    """Create a staff member with their first assignment starting ``on``."""
    staff = Staff(
        employee_no=employee_no,
        name=name,
        unit=unit,
        position=position,
        active_from=on,
        attributes=attributes or {},
    )
    staff.full_clean()
    staff.save()
    StaffAssignment.objects.create(staff=staff, unit=unit, position=position, valid_from=on)
    return staff


@transaction.atomic
def move_staff(staff: Staff, *, to_unit: Unit, on: datetime.date, position: str | None = None) -> StaffAssignment:
    """Move ``staff`` to ``to_unit`` from ``on``: the current assignment ends the day before.

    Figures dated before ``on`` stay attributed to the old unit (see StaffAssignment).
    """
    current = (
        StaffAssignment.objects.select_for_update().filter(staff=staff, valid_to__isnull=True).order_by("-valid_from").first()
    )
    new_position = position or staff.position
    if current is not None:
        if on <= current.valid_from:
            raise ValidationError(
                {"valid_from": _("A move must start after the current assignment began (%(date)s).") % {"date": current.valid_from}}
            )
        current.valid_to = on - datetime.timedelta(days=1)
        current.save(update_fields=["valid_to"])
    assignment = StaffAssignment.objects.create(staff=staff, unit=to_unit, position=new_position, valid_from=on)
    Staff.objects.filter(pk=staff.pk).update(unit=to_unit, position=new_position)
    staff.refresh_from_db()
    return assignment


@transaction.atomic
def end_staff(staff: Staff, *, on: datetime.date) -> Staff:
    """A staff member leaves the bank after ``on`` (their last day)."""
    StaffAssignment.objects.filter(staff=staff, valid_to__isnull=True).update(valid_to=on)
    staff.active_to = on
    staff.save(update_fields=["active_to"])
    return staff


# --- whole files, set-based ----------------------------------------------------------------


@dataclass(frozen=True)
class UnitRecord:
    """One unit of an import file as ``import_units`` writes it; a field left None is kept."""

    code: str
    name: str | None = None
    kind: str | None = None
    category: str | None = None
    name_en: str | None = None
    active_from: datetime.date | None = None
    parent_code: str | None = None  # a new parent: a move (the parent may be new in the same file)
    path: str | None = None  # a new unit's path, computed for the tree after the whole file


@transaction.atomic
def import_units(*, new: Iterable[UnitRecord], changed: Iterable[UnitRecord], moved_paths: dict[str, str]) -> None:
    """Write a unit file: insert ``new`` units, change ``changed`` ones, move subtrees.

    ``moved_paths`` maps the current path of every unit the file moves (or that lies under a
    moved unit) to its path after the file; every unit whose path starts with one of them gets
    the new path and depth (the deepest prefix counts). The caller has checked the rows (no
    loops, lengths, dates); a handful of statements in all, one transaction.
    """
    paths = _paths_after_moves(moved_paths)
    rows: dict[str, tuple] = {}
    for record in new:
        rows[record.code] = _unit_stage_row(record, is_new=True, path=record.path)
    for record in changed:
        rows[record.code] = _unit_stage_row(record, is_new=False, path=paths.get(record.code))
    for code, path in paths.items():
        if code not in rows:
            rows[code] = _unit_stage_row(UnitRecord(code=code), is_new=False, path=path)
    if not rows:
        return
    unit = connection.ops.quote_name(Unit._meta.db_table)
    with connection.cursor() as cursor:
        stage = _stage(cursor, _UNIT_STAGE_COLUMNS, rows.values())
        cursor.execute(
            f"INSERT INTO {unit} (code, name, name_en, kind, category, path, depth, active_from, active_to, parent_id, merged_into_id)"
            f" SELECT code, name, name_en, kind, category, path, depth, active_from, NULL, NULL, NULL FROM {stage} WHERE is_new"
        )
        kept = ", ".join(f"{column} = COALESCE(s.{column}, {unit}.{column})" for column in _UNIT_KEPT_COLUMNS)
        cursor.execute(
            f"UPDATE {unit} SET {kept},"
            f" parent_id = COALESCE((SELECT p.id FROM {unit} AS p WHERE p.code = s.parent_code), {unit}.parent_id)"
            f" FROM {stage} AS s WHERE {unit}.code = s.code"
        )
        cursor.execute(f"DROP TABLE {stage}")


_UNIT_KEPT_COLUMNS = ("name", "kind", "category", "name_en", "active_from", "path", "depth")
_UNIT_STAGE_COLUMNS = (
    ("code", "varchar(32)"), ("is_new", "boolean"), ("name", "varchar(100)"), ("kind", "varchar(20)"),
    ("category", "varchar(50)"), ("name_en", "varchar(100)"), ("active_from", "date"),
    ("parent_code", "varchar(32)"), ("path", "varchar(1000)"), ("depth", "integer"),
)


def _unit_stage_row(record: UnitRecord, *, is_new: bool, path: str | None) -> tuple:
    depth = path.count(PATH_SEPARATOR) - 2 if path else None
    return (
        record.code, is_new, record.name, record.kind, record.category, record.name_en,
        _date(record.active_from), record.parent_code, path, depth,
    )


def _paths_after_moves(moved_paths: dict[str, str]) -> dict[str, str]:
    """Every unit under a moved path (code → its new path); one read of the codes and paths."""
    if not moved_paths:
        return {}
    paths = {}
    for code, path in Unit.objects.values_list("code", "path"):
        prefix = path
        while prefix != PATH_SEPARATOR:  # the unit itself, then each ancestor: the deepest move counts
            if prefix in moved_paths:
                paths[code] = moved_paths[prefix] + path[len(prefix) :]
                break
            prefix = prefix[: prefix.rstrip(PATH_SEPARATOR).rfind(PATH_SEPARATOR) + 1]
    return paths


@dataclass(frozen=True)
class StaffRecord:
    """One staff row of an import file as ``import_staff`` writes it; a field left None is kept.

    ``staff_id`` None is a hire from ``starts_on``. For someone on the staff, ``starts_on`` is
    a move (to ``unit_id`` and ``position``) from that day: ``closes_assignment_id`` (the current
    assignment) ends the day before. ``leaves_on`` is the last day: it ends the new assignment
    of a hire or a move, else ``ends_assignment_id``.
    """

    employee_no: str
    staff_id: int | None = None
    name: str | None = None
    unit_id: int | None = None
    position: str | None = None
    starts_on: datetime.date | None = None
    leaves_on: datetime.date | None = None
    closes_assignment_id: int | None = None
    ends_assignment_id: int | None = None


@transaction.atomic
def import_staff(records: Iterable[StaffRecord]) -> None:
    """Write a staff file: hires, renames, moves and leavers, keeping the assignment history.

    The same outcome as ``hire_staff``, ``move_staff`` and ``end_staff`` row by row, in a handful
    of statements for the whole file. The caller has checked the rows (dates in order, lengths).
    """
    rows = [
        (
            r.employee_no, r.staff_id, r.name, r.unit_id, r.position, _date(r.starts_on), _date(r.leaves_on),
            r.closes_assignment_id, _date(r.starts_on - datetime.timedelta(days=1)) if r.closes_assignment_id else None,
            r.ends_assignment_id,
        )
        for r in records
    ]
    if not rows:
        return
    staff = connection.ops.quote_name(Staff._meta.db_table)
    assignment = connection.ops.quote_name(StaffAssignment._meta.db_table)
    empty_attributes = "CAST('{}' AS jsonb)" if connection.vendor == "postgresql" else "'{}'"
    with connection.cursor() as cursor:
        stage = _stage(cursor, _STAFF_STAGE_COLUMNS, rows)
        cursor.execute(
            f"INSERT INTO {staff} (employee_no, name, unit_id, position, active_from, active_to, attributes)"
            f" SELECT employee_no, name, unit_id, position, starts_on, leaves_on, {empty_attributes}"
            f" FROM {stage} WHERE staff_id IS NULL"
        )
        cursor.execute(
            f"UPDATE {staff} SET name = COALESCE(s.name, {staff}.name), unit_id = COALESCE(s.unit_id, {staff}.unit_id),"
            f" position = COALESCE(s.position, {staff}.position), active_to = COALESCE(s.leaves_on, {staff}.active_to)"
            f" FROM {stage} AS s WHERE {staff}.id = s.staff_id"
        )
        cursor.execute(f"UPDATE {assignment} SET valid_to = s.closes_on FROM {stage} AS s WHERE {assignment}.id = s.closes_id")
        cursor.execute(f"UPDATE {assignment} SET valid_to = s.leaves_on FROM {stage} AS s WHERE {assignment}.id = s.ends_id")
        cursor.execute(
            f"INSERT INTO {assignment} (staff_id, unit_id, position, valid_from, valid_to)"
            f" SELECT p.id, s.unit_id, s.position, s.starts_on, s.leaves_on"
            f" FROM {stage} AS s JOIN {staff} AS p ON p.employee_no = s.employee_no WHERE s.starts_on IS NOT NULL"
        )
        cursor.execute(f"DROP TABLE {stage}")


_STAFF_STAGE_COLUMNS = (
    ("employee_no", "varchar(32)"), ("staff_id", "bigint"), ("name", "varchar(50)"), ("unit_id", "bigint"),
    ("position", "varchar(20)"), ("starts_on", "date"), ("leaves_on", "date"), ("closes_id", "bigint"),
    ("closes_on", "date"), ("ends_id", "bigint"),
)


def _date(day: datetime.date | None):
    return None if day is None else connection.ops.adapt_datefield_value(day)


def _stage(cursor, columns: tuple[tuple[str, str], ...], rows: Iterable[tuple]) -> str:
    """A temporary table of ``columns`` (name, SQL type) holding ``rows``; its name.

    Filled with COPY on PostgreSQL, one executemany elsewhere: a few statements for any number
    of rows. Dropped by the caller (and at commit on PostgreSQL).
    """
    name = f"kmh_stage_{uuid.uuid4().hex[:16]}"
    postgresql = connection.vendor == "postgresql"
    definition = ", ".join(f"{column} {sql_type}" for column, sql_type in columns)
    cursor.execute(f"CREATE TEMPORARY TABLE {name} ({definition})" + (" ON COMMIT DROP" if postgresql else ""))
    names = ", ".join(column for column, _type in columns)
    if postgresql:
        with cursor.cursor.copy(f"COPY {name} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute(f"ANALYZE {name}")
    else:
        cursor.executemany(f"INSERT INTO {name} ({names}) VALUES ({', '.join(['%s'] * len(columns))})", list(rows))
    return name
