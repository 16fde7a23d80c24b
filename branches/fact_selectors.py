"""Reads of the bank's figures: one participant's figure history with its sources, and the
error file of an import batch.

The writes live in ``branches.facts`` (the one write path); this module only reads.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.db.models import Max, Min

from branches.facts import IMPORTS_DIR
from branches.models import Fact, FactVersion, ImportBatch


@dataclass(frozen=True)
class FactHistoryEntry:
    business_date: datetime.date
    version_no: int
    value: Decimal
    previous_value: Decimal | None
    is_current: bool
    batch_id: int | None
    source_kind: str
    source_reference: str
    source_row: int | None
    actor: str
    recorded_at: datetime.datetime | None


# Days per query: well below SQLite's and PostgreSQL's limits on bound parameters.
DAYS_PER_QUERY = 500

Period = tuple[datetime.date, datetime.date | None]


def fact_history(
    subject_kind: int,
    subject_id: int,
    indicator_id: int,
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
    *,
    within: list[Period] | None = None,
) -> list[FactHistoryEntry]:
    """Every version of one participant's figure for one indicator, newest date and version first.

    Each entry says who wrote it (actor), when (the batch's start), from where (file and row,
    API batch, manual edit) and the value it replaced. The range is cut to the days the bank has
    figures for at all (so 0001-01-01 to 9999-12-31 costs what the stored days cost); a range
    whose start is after its end is empty. ``within``: only the days inside these (from, to)
    periods (``to`` None: open), e.g. a staff member's assignments inside a manager's subtree;
    None means every day. A query per DAYS_PER_QUERY days of range, plus two.
    """
    # The fact index starts with the date: MIN / MAX over it are instant.
    bounds = Fact.objects.aggregate(first=Min("business_date"), last=Max("business_date"))
    if bounds["first"] is None:
        return []
    date_from = max(date_from or bounds["first"], bounds["first"])
    date_to = min(date_to or bounds["last"], bounds["last"])
    # An explicit list of days: one index descent per day on (date, indicator, subject), instead
    # of a range scan over every subject's figures of those days.
    days = [date_from + datetime.timedelta(days=n) for n in range((date_to - date_from).days + 1)]
    if within is not None:
        days = [day for day in days if any(start <= day and (end is None or day <= end) for start, end in within)]
    facts = []
    for start in range(0, len(days), DAYS_PER_QUERY):
        facts += Fact.objects.filter(
            business_date__in=days[start : start + DAYS_PER_QUERY],
            indicator_id=indicator_id,
            subject_kind=subject_kind,
            subject_id=subject_id,
        )
    fact_ids = [f.pk for f in facts]
    versions = []
    for start in range(0, len(fact_ids), DAYS_PER_QUERY):
        versions += FactVersion.objects.filter(fact__in=fact_ids[start : start + DAYS_PER_QUERY])
    batch_ids = {f.batch_id for f in facts} | {v.batch_id for v in versions}
    batches = ImportBatch.objects.in_bulk([b for b in batch_ids if b is not None])
    dates = {f.pk: f.business_date for f in facts}

    def entry(day, version_no, value, previous, current, batch_id, row):
        batch = batches.get(batch_id)
        return FactHistoryEntry(
            business_date=day,
            version_no=version_no,
            value=value,
            previous_value=previous,
            is_current=current,
            batch_id=batch_id,
            source_kind=batch.kind if batch else "",
            source_reference=batch.reference if batch else "",
            source_row=row,
            actor=batch.actor if batch else "",
            recorded_at=batch.started_at if batch else None,
        )

    entries = [entry(f.business_date, f.version_no, f.value, f.previous_value, True, f.batch_id, f.source_row) for f in facts]
    entries += [
        entry(dates[v.fact_id], v.version_no, v.value, v.previous_value, False, v.batch_id, v.source_row) for v in versions
    ]
    entries.sort(key=lambda e: (e.business_date, e.version_no), reverse=True)
    return entries


def error_file_of(batch: ImportBatch) -> Path | None:
    """The CSV of every error of ``batch`` (var/imports/batch-<id>-errors.csv), or None.

    The path is built from the batch id, never read from the stored field (a stored path is not
    trusted to point inside var/); the batch must have recorded an error file and it must still
    exist.
    """
    if not batch.error_file:
        return None
    path = Path(settings.VAR_DIR) / IMPORTS_DIR / f"batch-{batch.pk}-errors.csv"
    return path if path.is_file() else None
