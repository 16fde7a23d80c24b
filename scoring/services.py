"""Writes that start scoring work: queueing recomputes after figures change, setting flags."""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from campaigns.models import Campaign, CampaignStatus, MetricComponent
from scoring.models import ParticipantFlag


def affected_campaign_days(
    changes: Iterable[tuple[int, datetime.date]], *, today: datetime.date | None = None
) -> list[tuple[int, datetime.date]]:
    """Every (campaign id, business date) whose results depend on the changed (indicator, date) pairs.

    A changed figure on day D changes cumulative figures (daily averages, sums, increases) of D and
    every later day, so each active campaign using the indicator is affected from max(D, start)
    through min(today, end). Two queries, whatever the number of changes.
    """
    today = today or timezone.localdate()  # TIME_ZONE is the bank's time zone
    earliest: dict[int, datetime.date] = {}
    for indicator_id, day in changes:
        if isinstance(day, str):
            day = datetime.date.fromisoformat(day)
        if indicator_id not in earliest or day < earliest[indicator_id]:
            earliest[indicator_id] = day
    if not earliest:
        return []
    uses = (
        MetricComponent.objects.filter(
            indicator_id__in=earliest, metric__campaign__status=CampaignStatus.ACTIVE
        )
        .values_list("indicator_id", "metric__campaign_id")
        .distinct()
    )
    first_day: dict[int, datetime.date] = {}
    for indicator_id, campaign_id in uses:
        day = earliest[indicator_id]
        if campaign_id not in first_day or day < first_day[campaign_id]:
            first_day[campaign_id] = day
    result = []
    for campaign in Campaign.objects.filter(pk__in=first_day):
        day = max(first_day[campaign.pk], campaign.start_date)
        last = min(today, campaign.end_date)
        while day <= last:
            result.append((campaign.pk, day))
            day += datetime.timedelta(days=1)
    return result


def queue_recomputes_for_changed_facts(
    changes: Iterable[tuple[int, datetime.date]], *, today: datetime.date | None = None
) -> list[tuple[int, datetime.date]]:
    """Queue ``recompute_campaign_day`` for every (campaign, day) the changed facts affect.

    ``changes``: (indicator_id, business_date) pairs, e.g. from an import. The tasks are queued
    after the current transaction commits (so a rolled-back import queues nothing). Returns the
    (campaign_id, day) pairs queued.
    """
    pairs = affected_campaign_days(changes, today=today)
    _queue_after_commit(pairs)
    return pairs


def _queue_after_commit(pairs: Iterable[tuple[int, datetime.date]]) -> None:
    """One ``recompute_campaign_day`` task per (campaign id, day), queued once the transaction commits."""
    from scoring.tasks import recompute_campaign_day

    for campaign_id, day in pairs:
        transaction.on_commit(lambda c=campaign_id, d=day: recompute_campaign_day.delay(c, d.isoformat()))


def queue_recomputes_for_changed_targets(campaign: Campaign, targets: Iterable) -> list[datetime.date]:
    """Queue ``recompute_campaign_day`` for every day of an active campaign already computed from
    the earliest period start among ``targets`` (new, changed or deleted ``Target`` rows) on.

    A target or base changed mid-campaign changes each completion rate of its period and every
    later quarter figure; recomputing only today would also show the target change as today's
    movement against yesterday. Days not computed yet are left to the morning's schedule. No
    targets, nothing queued. Returns the days queued (after the current transaction commits).
    """
    from scoring.models import ResultSet

    starts = [target.period_start or campaign.start_date for target in targets]
    if not starts or campaign.status != CampaignStatus.ACTIVE:
        return []
    days = list(
        ResultSet.objects.filter(campaign=campaign, is_current=True, business_date__gte=min(starts))
        .order_by("business_date")
        .values_list("business_date", flat=True)
    )
    _queue_after_commit((campaign.pk, day) for day in days)
    return days


def set_flag(*, participant, code: str, on: bool = True, by=None, note: str = "") -> None:
    """Set (or clear with ``on=False``) a planner flag such as ``green`` or ``falsified`` on a participant."""
    if on:
        ParticipantFlag.objects.update_or_create(
            participant=participant, code=code,
            defaults={"campaign_id": participant.campaign_id, "set_by": by, "note": note},
        )
    else:
        ParticipantFlag.objects.filter(participant=participant, code=code).delete()

