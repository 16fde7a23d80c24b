"""Who may see which units and staff. Every view and API of every app asks here.

Head-office roles (planner, finance, viewer) see the whole bank. A branch manager sees their
scope unit's subtree. A staff member sees only themselves.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import QuerySet

from branches import roles
from branches.models import Staff, StaffAssignment, Unit, UserProfile


@dataclass(frozen=True)
class Scope:
    whole_bank: bool
    unit_path: str | None = None  # subtree root's path, when not whole_bank
    staff_id: int | None = None  # a staff member's own record

    @property
    def is_empty(self) -> bool:
        return not self.whole_bank and self.unit_path is None and self.staff_id is None


NOTHING = Scope(whole_bank=False)


def scope_for(user) -> Scope:
    """The part of the organisation ``user`` may see."""
    held = roles.roles_of(user)
    if held & {roles.PLANNER, roles.FINANCE, roles.VIEWER}:
        return Scope(whole_bank=True)
    profile = UserProfile.objects.select_related("scope_unit", "staff__unit").filter(user_id=user.pk).first()
    if profile is None:
        return NOTHING
    if roles.BRANCH_MANAGER in held:
        unit = profile.scope_unit or (profile.staff.unit if profile.staff else None)
        if unit is not None:
            return Scope(whole_bank=False, unit_path=unit.path, staff_id=profile.staff_id)
    if roles.STAFF in held and profile.staff_id:
        return Scope(whole_bank=False, staff_id=profile.staff_id)
    return NOTHING


def visible_units(user) -> QuerySet[Unit]:
    scope = scope_for(user)
    if scope.whole_bank:
        return Unit.objects.all()
    if scope.unit_path:
        return Unit.objects.filter(path__startswith=scope.unit_path)
    return Unit.objects.none()


def visible_staff(user) -> QuerySet[Staff]:
    scope = scope_for(user)
    if scope.whole_bank:
        return Staff.objects.all()
    if scope.unit_path:
        return Staff.objects.filter(unit__path__startswith=scope.unit_path)
    if scope.staff_id:
        return Staff.objects.filter(pk=scope.staff_id)
    return Staff.objects.none()


def can_see_unit(user, unit: Unit) -> bool:
    scope = scope_for(user)
    return scope.whole_bank or (scope.unit_path is not None and unit.path.startswith(scope.unit_path))


def can_see_staff(user, staff: Staff) -> bool:
    scope = scope_for(user)
    if scope.whole_bank:
        return True
    if scope.unit_path is not None and staff.unit.path.startswith(scope.unit_path):
        return True
    return scope.staff_id == staff.pk


def staff_periods_visible(scope: Scope, staff: Staff) -> list[tuple[datetime.date, datetime.date | None]] | None:
    """The date spans of ``staff``'s record that ``scope`` covers: None for all of it, [] for none.

    Figures made before a move stay with the old unit, so a branch manager sees a person's
    figures for the days the person was assigned inside the manager's subtree (each span is an
    assignment's (valid_from, valid_to), ``valid_to`` None while current) — not by the person's
    current unit. The whole bank and the person themselves see everything. A staff record
    without any assignment history falls back to its current unit.
    """
    if scope.whole_bank or scope.staff_id == staff.pk:
        return None
    if scope.unit_path is None:
        return []
    assignments = StaffAssignment.objects.filter(staff=staff)
    if not assignments.exists():
        return None if staff.unit.path.startswith(scope.unit_path) else []
    return list(assignments.filter(unit__path__startswith=scope.unit_path).values_list("valid_from", "valid_to"))
