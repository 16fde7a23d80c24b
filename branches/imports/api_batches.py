"""Figures sent through the REST API in batches: idempotent by the client's batch id, all or
nothing per batch, every row's errors in the answer."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from branches.api_models import ApiFigureBatch
from branches.facts import FactSource, merge_facts
from branches.imports import values
from branches.imports.errors import RowError
from branches.imports.figure_import import merge_rows
from branches.imports.figures import FigureRecord, validate_records
from branches.models import ImportBatch

API_COLUMNS = {"unit_code": "unit_code", "employee_no": "employee_no", "business_date": "business_date", "indicator": "indicator"}


class BatchConflict(Exception):
    """The batch id was already used for different content."""


@dataclass
class BatchAnswer:
    body: dict
    accepted: bool
    replayed: bool = False


def payload_hash(rows: list[dict]) -> str:
    return hashlib.sha256(json.dumps(rows, sort_keys=True, default=str, ensure_ascii=False).encode()).hexdigest()


def receive_figure_batch(*, user, batch_id: str, rows: list[dict], writable_unit_path: str | None) -> BatchAnswer:
    """Validate and merge one API batch of figures for ``user``.

    ``rows`` are dicts with unit_code or employee_no, indicator, business_date and value.
    ``writable_unit_path`` limits the subjects to a subtree (a token's scope); None: whole bank.
    A batch id already accepted for this user returns the first answer with ``replayed`` and
    writes nothing; the same id with different rows raises BatchConflict. A batch with any error
    writes nothing (and its id stays free, so the corrected batch may reuse it).
    """
    digest = payload_hash(rows)
    earlier = ApiFigureBatch.objects.filter(client_user=user, batch_id=batch_id).first()
    if earlier is not None:
        return _replay(earlier, digest)
    # A figure belongs to one unit or one staff member. The browser import reads a row with both
    # as the person's (its unit column is context); a system sending both is ambiguous, and the
    # bulk path refuses it too (two_subjects).
    two_subjects = {
        position: [RowError(position, "unit_code / employee_no", _("give either unit_code or employee_no, not both"))]
        for position, row in enumerate(rows, start=1)
        if not values.is_empty(row.get("unit_code")) and not values.is_empty(row.get("employee_no"))
    }
    records = [
        FigureRecord(
            row_no=position,
            column="value",
            unit_code=row.get("unit_code"),
            employee_no=row.get("employee_no"),
            business_date=row.get("business_date"),
            indicator=row.get("indicator"),
            value=row.get("value"),
        )
        for position, row in enumerate(rows, start=1)
        if position not in two_subjects
    ]
    valid, errors = validate_records(records, columns=API_COLUMNS, writable_unit_path=writable_unit_path)
    errors = {**errors, **two_subjects}
    if errors:
        flat = [error for row_no in sorted(errors) for error in errors[row_no]]
        return BatchAnswer(_answer(batch_id, "rejected", len(rows), errors=flat), accepted=False)
    source = FactSource(kind=ImportBatch.Kind.API, reference=batch_id, user=user, actor=user.get_username())
    try:
        with transaction.atomic():
            # Claim the batch id first: a concurrent copy of the same batch waits here, then replays.
            claim = ApiFigureBatch.objects.create(client_user=user, batch_id=batch_id, payload_sha256=digest)
            outcome = merge_facts(rows=merge_rows(valid), source=source)
            if not outcome.ok:
                flat = [RowError(e.row_no, e.column, e.message) for e in outcome.errors]
                claim.delete()
                return BatchAnswer(_answer(batch_id, "rejected", len(rows), errors=flat, error_count=outcome.error_count), accepted=False)
            body = _answer(batch_id, "merged", len(rows), new=outcome.new, changed=outcome.changed, unchanged=outcome.unchanged)
            claim.import_batch_id = outcome.batch_id
            claim.response = body
            claim.save(update_fields=["import_batch", "response"])
    except IntegrityError:
        return _replay(ApiFigureBatch.objects.get(client_user=user, batch_id=batch_id), digest)
    return BatchAnswer(body, accepted=True)


def _replay(earlier: ApiFigureBatch, digest: str) -> BatchAnswer:
    if earlier.payload_sha256 != digest:
        raise BatchConflict(
            _("Batch id %(batch)s was already used for different figures; use a new batch id.") % {"batch": earlier.batch_id}
        )
    return BatchAnswer({**earlier.response, "replayed": True}, accepted=True, replayed=True)


def _answer(batch_id, status, rows, *, new=0, changed=0, unchanged=0, errors=(), error_count=None) -> dict:
    errors = list(errors)
    return {
        "batch_id": batch_id,
        "status": status,
        "replayed": False,
        "rows": rows,
        "new": new,
        "changed": changed,
        "unchanged": unchanged,
        "error_count": len(errors) if error_count is None else error_count,
        "errors": [error.as_dict() for error in errors[:1000]],
    }
