"""Reads of campaign configuration that other apps use."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Sum

from campaigns.models import Campaign, Participant, Target, TargetPeriod


def time_progress(*, start: datetime.date, end: datetime.date, day: datetime.date) -> Decimal:
    """时间进度: calendar days elapsed up to and including ``day`` ÷ days in [start, end].

    0 before the start, 1 from the end on. A pure function: no database.
    """
    total = (end - start).days + 1
    elapsed = (min(day, end) - start).days + 1
    if elapsed <= 0:
        return Decimal(0)
    return Decimal(elapsed) / Decimal(total)


@dataclass(frozen=True)
class PhaseProgress:
    code: str
    name: str
    start_date: datetime.date
    end_date: datetime.date
    target_share: Decimal
    time_progress: Decimal
    is_current: bool


def phase_progress(campaign: Campaign, day: datetime.date) -> list[PhaseProgress]:
    """Each phase's own 时间进度 on ``day`` and its share of the target (节奏安排). One query.

    A participant's phase target is its campaign target × the phase's share unless a phase
    target is given (see ``phase_target``).
    """
    return [
        PhaseProgress(
            code=phase.code, name=phase.name, start_date=phase.start_date, end_date=phase.end_date,
            target_share=phase.target_share,
            time_progress=time_progress(start=phase.start_date, end=phase.end_date, day=day),
            is_current=phase.start_date <= day <= phase.end_date,
        )
        for phase in campaign.phases.order_by("start_date")
    ]


def phase_target(*, campaign_target: Decimal, share: Decimal, phase_target_value: Decimal | None = None) -> Decimal:
    """A phase's target: the one given for the phase, else the campaign target × the phase's share."""
    return phase_target_value if phase_target_value is not None else campaign_target * share


def active_campaigns_on(day: datetime.date):
    """Campaigns that are active (published, not closed) and whose period contains ``day``."""
    return Campaign.objects.filter(status="active", start_date__lte=day, end_date__gte=day)


@dataclass(frozen=True)
class TargetCheck:
    unit_id: int
    unit_code: str
    unit_target: Decimal | None
    staff_sum: Decimal
    matches: bool


def check_staff_targets_against_units(
    *, staff_campaign: Campaign, unit_campaign: Campaign, metric_code: str
) -> list[TargetCheck]:
    """Sum the staff's campaign targets per unit and compare with that unit's target.

    A staff member counts for the unit they belong to on the staff campaign's first day (their
    assignment then); units whose staff sum differs from their target are ``matches=False``
    (shown as a warning, never blocking). Two queries.
    """
    from django.db.models import OuterRef, Q, Subquery

    from branches.models import StaffAssignment

    start = staff_campaign.start_date
    unit_at_start = StaffAssignment.objects.filter(
        Q(valid_to__isnull=True) | Q(valid_to__gte=start), staff_id=OuterRef("participant__staff_id"), valid_from__lte=start
    ).order_by("-valid_from").values("unit_id")[:1]
    sums = (
        Target.objects.filter(campaign=staff_campaign, metric__code=metric_code, period=TargetPeriod.CAMPAIGN)
        .annotate(unit_id=Subquery(unit_at_start))
        .values("unit_id")
        .annotate(total=Sum("target_value"))
    )
    staff_sum = {row["unit_id"]: row["total"] for row in sums}
    unit_targets = {
        t.participant.unit_id: t
        for t in Target.objects.filter(
            campaign=unit_campaign, metric__code=metric_code, period=TargetPeriod.CAMPAIGN
        ).select_related("participant__unit")
    }
    checks = []
    for unit_id in sorted(set(staff_sum) | set(unit_targets)):
        if unit_id is None:
            continue
        target = unit_targets.get(unit_id)
        total = staff_sum.get(unit_id) or Decimal(0)
        unit_code = target.participant.unit.code if target else str(unit_id)
        value = target.target_value if target else None
        checks.append(TargetCheck(unit_id, unit_code, value, total, value is not None and value == total))
    return checks


@dataclass(frozen=True)
class TargetMismatch:
    metric_code: str
    unit_code: str
    unit_target: Decimal | None
    staff_sum: Decimal


def staff_target_mismatches(*, staff_campaign: Campaign, unit_campaign: Campaign) -> list[TargetMismatch]:
    """Every unit whose staff's targets do not add up to its own, for each metric code both
    campaigns have (the same campaign twice for a mixed one). Two queries per metric."""
    shared = sorted(
        set(staff_campaign.metrics.values_list("code", flat=True)) & set(unit_campaign.metrics.values_list("code", flat=True))
    )
    return [
        TargetMismatch(code, check.unit_code, check.unit_target, check.staff_sum)
        for code in shared
        for check in check_staff_targets_against_units(staff_campaign=staff_campaign, unit_campaign=unit_campaign, metric_code=code)
        if not check.matches
    ]


def participant_for_subject(campaign_id: int, subject_kind: int, subject_id: int) -> Participant | None:
    return Participant.objects.filter(campaign_id=campaign_id, subject_kind=subject_kind, subject_id=subject_id).first()
