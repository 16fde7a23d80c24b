"""Celery tasks of scoring. They take ids and ISO dates, look everything up fresh, and are safe to run twice."""

from __future__ import annotations

import datetime
import logging

from celery import shared_task
from django.db import OperationalError

log = logging.getLogger(__name__)


@shared_task(
    name="scoring.recompute_campaign_day",
    autoretry_for=(OperationalError,),
    retry_backoff=5,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=6,
    acks_late=True,
)
def recompute_campaign_day(campaign_id: int, date_iso: str) -> dict:
    """Recompute one campaign's results for one business date (see ``scoring.engine.recompute``).

    Retries with exponential backoff on database errors (lock timeouts, a restarted server).
    A closed campaign is skipped, not an error.
    """
    from scoring.engine import CampaignClosed, recompute

    day = datetime.date.fromisoformat(date_iso)
    try:
        result_set = recompute(campaign_id, day)
    except CampaignClosed:
        log.info("campaign %s is closed; %s not recomputed", campaign_id, date_iso)
        return {"campaign_id": campaign_id, "date": date_iso, "skipped": "closed"}
    return {
        "campaign_id": campaign_id,
        "date": date_iso,
        "result_set_id": result_set.pk,
        "version": result_set.version,
        "seconds": result_set.seconds,
    }


def due_campaign_days(now: datetime.datetime | None = None) -> list[tuple[int, datetime.date]]:
    """(campaign id, business date) pairs whose morning recompute is due at ``now``.

    Each morning a campaign recomputes the previous business day (the figures the data team
    pushed overnight) once its ``recompute_time`` has passed in the bank's time zone, unless that
    day's board was already computed after that moment. A campaign that ended yesterday gets its
    last day too. Two queries.
    """
    from django.utils import timezone

    from campaigns.models import Campaign, CampaignStatus
    from scoring.models import ResultSet

    now = timezone.localtime(now or timezone.now())
    day = now.date() - datetime.timedelta(days=1)
    due = []
    campaigns = list(Campaign.objects.filter(status=CampaignStatus.ACTIVE, start_date__lte=day, end_date__gte=day))
    computed = dict(
        ResultSet.objects.filter(campaign__in=campaigns, business_date=day, is_current=True).values_list(
            "campaign_id", "computed_at"
        )
    )
    for campaign in campaigns:
        moment = timezone.make_aware(datetime.datetime.combine(now.date(), campaign.recompute_time), now.tzinfo)
        if now < moment:
            continue
        if campaign.pk in computed and computed[campaign.pk] >= moment:
            continue
        due.append((campaign.pk, day))
    return due


@shared_task(name="scoring.dispatch_due_recomputes")
def dispatch_due_recomputes() -> list:
    """Queue the morning recompute of every campaign that is due (run by beat every few minutes).

    A cache marker keeps a pending recompute from being queued again on the next tick.
    """
    from django.core.cache import cache

    queued = []
    for campaign_id, day in due_campaign_days():
        if cache.add(f"scoring:dispatched:{campaign_id}:{day.isoformat()}", 1, timeout=6 * 3600):
            recompute_campaign_day.delay(campaign_id, day.isoformat())
            queued.append([campaign_id, day.isoformat()])
    return queued
