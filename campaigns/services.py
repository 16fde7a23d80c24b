"""Writes to campaign configuration: one function per planner action."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from branches.models import Staff, SubjectKind, Unit
from campaigns import validation
from campaigns.models import Campaign, CampaignStatus, Metric, Participant, Phase, Target, TargetPeriod


@transaction.atomic
def publish_campaign(campaign: Campaign, *, by=None) -> Campaign:
    """Check the campaign (weights add up, participants and metrics present) and make it active.

    Raises ValidationError naming the field when something is missing or the weights are off.
    """
    if campaign.status != CampaignStatus.DRAFT:
        raise ValidationError({"status": _("Only a draft campaign can be published.")})
    validation.validate_for_publish(campaign)
    campaign.status = CampaignStatus.ACTIVE
    campaign.published_at = timezone.now()
    campaign.published_by = by
    campaign.save(update_fields=["status", "published_at", "published_by"])
    return campaign


def close_campaign(campaign: Campaign, *, by=None) -> Campaign:
    """Close an active campaign: its results no longer change (recompute refuses)."""
    if campaign.status != CampaignStatus.ACTIVE:
        raise ValidationError({"status": _("Only an active campaign can be closed.")})
    campaign.status = CampaignStatus.CLOSED
    campaign.save(update_fields=["status"])
    return campaign


def archive_campaign(campaign: Campaign, *, by=None) -> Campaign:
    """Archive a closed campaign: it leaves the planners' working lists; its results stay as computed."""
    if campaign.status != CampaignStatus.CLOSED:
        raise ValidationError({"status": _("Only a closed campaign can be archived.")})
    campaign.status = CampaignStatus.ARCHIVED
    campaign.save(update_fields=["status"])
    return campaign


def add_participant(
    *,
    campaign: Campaign,
    unit: Unit | None = None,
    staff: Staff | None = None,
    joined_on: datetime.date | None = None,
    left_on: datetime.date | None = None,
) -> Participant:
    """Add one unit or staff member to ``campaign``; validated (level, dates)."""
    if unit is not None:
        participant = Participant(campaign=campaign, subject_kind=SubjectKind.UNIT, subject_id=unit.pk, unit=unit)
    else:
        participant = Participant(campaign=campaign, subject_kind=SubjectKind.STAFF, subject_id=staff.pk, staff=staff)
    participant.joined_on = joined_on
    participant.left_on = left_on
    participant.full_clean()
    participant.save()
    return participant


def add_units_under(*, campaign: Campaign, under: Unit, kinds: list[str]) -> int:
    """Add every unit of ``kinds`` under ``under`` (all units of a kind under a unit); returns the count added."""
    units = Unit.objects.filter(path__startswith=under.path, kind__in=kinds).exclude(
        pk__in=Participant.objects.filter(campaign=campaign, subject_kind=SubjectKind.UNIT).values("subject_id")
    )
    rows = [Participant(campaign=campaign, subject_kind=SubjectKind.UNIT, subject_id=u.pk, unit=u) for u in units]
    Participant.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


@dataclass(frozen=True)
class TargetValue:
    """One participant's target for one metric and period, as a planner sets it."""

    participant: Participant
    metric: Metric
    target_value: Decimal
    period: str = TargetPeriod.CAMPAIGN
    phase: Phase | None = None
    month: datetime.date | None = None


@dataclass(frozen=True)
class TargetsWritten:
    new: int
    changed: int
    unchanged: int


# Participants per query when reading the targets already set (bound-parameter limits).
_TARGET_CHUNK = 500


@transaction.atomic
def set_targets(*, campaign: Campaign, targets: Sequence[TargetValue], by=None) -> TargetsWritten:
    """Set each target value of ``campaign``: new targets created, changed ones updated, equal
    ones left alone, base values kept. All or none: every target is checked first
    (``validation.validate_target``, as the forms and the target import check it) and a
    ValidationError names the participant, metric and period at fault. A handful of queries
    whatever the number of targets. ``by``: the planner (unused until target changes are audited).
    """
    existing = {}
    participant_ids = sorted({value.participant.pk for value in targets})
    metric_ids = {value.metric.pk for value in targets}
    for start in range(0, len(participant_ids), _TARGET_CHUNK):
        for target in Target.objects.filter(
            campaign=campaign, metric_id__in=metric_ids, participant_id__in=participant_ids[start : start + _TARGET_CHUNK]
        ):
            existing[(target.participant_id, target.metric_id, target.period, target.period_start)] = target
    new, changed, unchanged = [], [], 0
    seen = set()
    for value in targets:
        target = Target(
            campaign=campaign, participant=value.participant, metric=value.metric, period=value.period,
            phase=value.phase, month=value.month.replace(day=1) if value.month else None, target_value=value.target_value,
        )
        try:
            validation.validate_target(target)
        except ValidationError as error:
            raise ValidationError(f"{_target_label(value)}: {' '.join(error.messages)}") from None
        target.period_start = target.compute_period_start()
        key = (value.participant.pk, value.metric.pk, target.period, target.period_start)
        if key in seen:
            raise ValidationError(
                _("%(target)s is given twice.") % {"target": _target_label(value)}
            )
        seen.add(key)
        old = existing.get(key)
        if old is None:
            new.append(target)
        elif old.target_value != value.target_value:
            old.target_value = value.target_value
            changed.append(old)
        else:
            unchanged += 1
    Target.objects.bulk_create(new, batch_size=2000)
    Target.objects.bulk_update(changed, ["target_value"], batch_size=2000)
    from scoring.services import queue_recomputes_for_changed_targets

    queue_recomputes_for_changed_targets(campaign, [*new, *changed])
    return TargetsWritten(new=len(new), changed=len(changed), unchanged=unchanged)


def _target_label(value: TargetValue) -> str:
    if value.period == TargetPeriod.PHASE and value.phase is not None:
        period = value.phase.code
    elif value.period == TargetPeriod.MONTH and value.month is not None:
        period = f"{value.month:%Y-%m}"
    else:
        period = str(_("campaign"))
    return f"{value.participant.code} · {value.metric.name} · {period}"
