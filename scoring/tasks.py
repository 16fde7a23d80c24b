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
