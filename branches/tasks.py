"""Celery tasks of the organisation's figures. They take paths and ids, not objects."""

from __future__ import annotations

import datetime
import hashlib

from celery import shared_task
from django.core.cache import cache
from django.db import OperationalError

LOCK_SECONDS = 3600


@shared_task(
    name="branches.import_daily_file",
    autoretry_for=(OperationalError,),
    retry_backoff=10,
    max_retries=3,
    acks_late=True,
)
def import_daily_file_task(path: str, date_iso: str | None = None, user_id: int | None = None) -> dict:
    """Import a daily figures file (see ``branches.bulk_import.import_daily_file``); return its summary.

    Safe to run twice: the second run finds every figure unchanged and writes nothing. Two runs of
    the same file never overlap (a cache lock); the second is refused with ``status: "busy"``.
    """
    from django.contrib.auth import get_user_model

    from branches.bulk_import import import_daily_file
    from branches.facts import FactSource
    from branches.models import ImportBatch

    lock = "kmh:import-daily-file:" + hashlib.sha1(path.encode()).hexdigest()
    if not cache.add(lock, 1, timeout=LOCK_SECONDS):
        return {"path": path, "status": "busy"}
    try:
        user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
        source = FactSource(
            kind=ImportBatch.Kind.FILE,
            reference=path.rsplit("/", 1)[-1],
            user=user,
            actor="" if user else "system:import_daily_file",
        )
        day = datetime.date.fromisoformat(date_iso) if date_iso else None
        outcome = import_daily_file(path, business_date=day, source=source)
    finally:
        cache.delete(lock)
    return {
        "path": path,
        "status": outcome.status,
        "batch_id": outcome.batch_id,
        "rows": outcome.rows,
        "new": outcome.new,
        "changed": outcome.changed,
        "unchanged": outcome.unchanged,
        "errors": outcome.error_count,
        "error_file": outcome.error_file,
        "first_errors": [e.message for e in outcome.errors[:20]],
    }
