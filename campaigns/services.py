"""Writes to campaign configuration: one function per planner action."""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from branches.models import Staff, SubjectKind, Unit
from campaigns import validation
from campaigns.models import Campaign, CampaignStatus, Participant


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
