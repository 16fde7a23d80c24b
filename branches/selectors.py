"""Reads of the organisation that other apps use: subtrees, who was where on a date."""

from __future__ import annotations

import datetime

from django.db.models import Q, QuerySet

from branches.models import Staff, StaffAssignment, Unit


def subtree(unit: Unit, *, include_self: bool = True) -> QuerySet[Unit]:
    """Every unit under ``unit`` (one indexed prefix query)."""
    units = Unit.objects.filter(path__startswith=unit.path)
    return units if include_self else units.exclude(pk=unit.pk)


def active_on(day: datetime.date) -> Q:
    """Filter for units or staff active on ``day`` (fields active_from / active_to)."""
    return Q(active_from__lte=day) & (Q(active_to__isnull=True) | Q(active_to__gte=day))


def units_active_on(day: datetime.date, *, under: Unit | None = None, kinds: list[str] | None = None) -> QuerySet[Unit]:
    units = Unit.objects.filter(active_on(day))
    if under is not None:
        units = units.filter(path__startswith=under.path)
    if kinds:
        units = units.filter(kind__in=kinds)
    return units


def assignments_on(day: datetime.date) -> QuerySet[StaffAssignment]:
    return StaffAssignment.objects.filter(Q(valid_from__lte=day) & (Q(valid_to__isnull=True) | Q(valid_to__gte=day)))


def unit_of_staff_on(staff: Staff, day: datetime.date) -> Unit | None:
    """The unit ``staff`` belonged to on ``day``, or None if not employed then."""
    assignment = assignments_on(day).filter(staff=staff).select_related("unit").first()
    return assignment.unit if assignment else None


def staff_under_on(unit: Unit, day: datetime.date) -> QuerySet[Staff]:
    """Staff assigned on ``day`` to ``unit`` or any unit below it."""
    staff_ids = assignments_on(day).filter(unit__path__startswith=unit.path).values("staff_id")
    return Staff.objects.filter(pk__in=staff_ids)
