"""Who a target decomposition (任务分解) shares a unit's target among: participants of the
campaign only — the unit's direct sub-units open during the campaign (the others are named in
the plan's notes: closed before it, opening after it, not taking part), or the staff assigned on
a date to the unit or any unit below it. Set-based: a query per 500 units or participants, and
per 100 units' path prefixes for the staff.
"""

from __future__ import annotations

import datetime
from functools import reduce
from operator import or_

from django.db.models import Q
from django.utils.translation import gettext as _

from branches.imports.errors import RowError
from branches.models import SubjectKind, Unit
from campaigns.models import Participant

UNITS = "units"
STAFF = "staff"
# Units or participants per query (bound-parameter limits).
_CHUNK = 500
# Path prefixes OR-ed in one query when finding the staff under the file's units.
_PREFIXES_PER_QUERY = 100


def units_by_code(codes) -> dict[str, Unit]:
    codes = sorted(codes)
    units = {}
    for start in range(0, len(codes), _CHUNK):
        units.update(Unit.objects.in_bulk(codes[start : start + _CHUNK], field_name="code"))
    return units


def known_unit(row, units, plan) -> bool:
    if row.unit_code in units:
        return True
    plan.errors.append(RowError(row.row_no, row.unit_column, _("no unit with code %(code)s") % {"code": row.unit_code}))
    return False


def participants_under(campaign, *, level: str, staff_on: datetime.date | None, units: list[Unit], plan) -> dict[int, list[Participant]]:
    """The file's unit id → the participants its targets are split among (in code order)."""
    unique = list({unit.pk: unit for unit in units}.values())
    if level == STAFF:
        return _staff_under(campaign, staff_on or campaign.start_date, unique)
    return _sub_units_of(campaign, unique, plan)


def _sub_units_of(campaign, units: list[Unit], plan) -> dict[int, list[Participant]]:
    children: list[Unit] = []
    ids = [unit.pk for unit in units]
    for start in range(0, len(ids), _CHUNK):
        children += Unit.objects.filter(parent_id__in=ids[start : start + _CHUNK]).order_by("code")
    taking_part = _participants(campaign, SubjectKind.UNIT, [child.pk for child in children])
    parents = {unit.pk: unit for unit in units}
    result: dict[int, list[Participant]] = {}
    for child in children:
        parent = parents[child.parent_id]
        if child.active_to is not None and child.active_to < campaign.start_date:
            plan.notes.append(
                _("%(code)s (under %(parent)s) closed on %(date)s, before the campaign: left out")
                % {"code": child.code, "parent": parent.code, "date": child.active_to}
            )
        elif child.active_from > campaign.end_date:
            plan.notes.append(
                _("%(code)s (under %(parent)s) opens on %(date)s, after the campaign: left out")
                % {"code": child.code, "parent": parent.code, "date": child.active_from}
            )
        elif child.pk not in taking_part:
            plan.notes.append(
                _("%(code)s (under %(parent)s) is not a participant of this campaign: left out")
                % {"code": child.code, "parent": parent.code}
            )
        else:
            result.setdefault(parent.pk, []).append(taking_part[child.pk])
    return result


def _staff_under(campaign, day: datetime.date, units: list[Unit]) -> dict[int, list[Participant]]:
    from branches.selectors import assignments_on

    staff_participants = Participant.objects.filter(campaign=campaign, subject_kind=SubjectKind.STAFF).values("subject_id")
    under: dict[int, set[int]] = {}
    for start in range(0, len(units), _PREFIXES_PER_QUERY):
        chunk = units[start : start + _PREFIXES_PER_QUERY]
        prefixes = reduce(or_, (Q(unit__path__startswith=unit.path) for unit in chunk))
        for staff_id, path in assignments_on(day).filter(prefixes, staff_id__in=staff_participants).values_list("staff_id", "unit__path"):
            for unit in chunk:
                if path.startswith(unit.path):
                    under.setdefault(unit.pk, set()).add(staff_id)
    taking_part = _participants(campaign, SubjectKind.STAFF, sorted(set().union(*under.values())) if under else [])
    return {
        unit_id: sorted((taking_part[staff_id] for staff_id in staff_ids), key=lambda p: p.code)
        for unit_id, staff_ids in under.items()
    }


def _participants(campaign, kind: int, subject_ids: list[int]) -> dict[int, Participant]:
    found = {}
    for start in range(0, len(subject_ids), _CHUNK):
        for participant in Participant.objects.filter(
            campaign=campaign, subject_kind=kind, subject_id__in=subject_ids[start : start + _CHUNK]
        ).select_related("unit", "staff", "campaign"):
            found[participant.subject_id] = participant
    return found


def no_participant_message(unit: Unit, level: str) -> str:
    if level == STAFF:
        return _("no staff member under %(code)s takes part in this campaign on the chosen date") % {"code": unit.code}
    return _("no sub-unit of %(code)s takes part in this campaign") % {"code": unit.code}
