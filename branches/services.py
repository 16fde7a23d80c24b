"""Writes to the organisation: one function per action a planner or the data team takes.

Each keeps the materialised paths and the staff history consistent, in one transaction.
"""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Concat, Length, Substr
from django.utils.translation import gettext as _

from branches.models import Position, Staff, StaffAssignment, Unit


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
