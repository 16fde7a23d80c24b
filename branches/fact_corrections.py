"""A planner's hand correction of one figure (手工修改): a new version through the one write path.

The correction is an ImportBatch of kind manual whose reference is the planner's reason, so the
figure's history shows who changed it, when, why, and the value it replaced; the recompute of
every affected campaign day is queued as for any import.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from branches.facts import FactSource, MergeOutcome, merge_facts


def correct_figure(
    *,
    indicator_id: int,
    subject_kind: int,
    subject_id: int,
    business_date: datetime.date,
    value: Decimal,
    reason: str,
    by,
) -> MergeOutcome:
    """Write ``value`` as the figure of (indicator, subject, date), keeping the old one as a version.

    ``reason`` (required) becomes the source's reference. Raises ValidationError naming the field
    when the reason is empty or the merge refuses the value (its checks: negative counts, rates
    above 100 %, dates outside every campaign …); nothing is written then.
    """
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the figure is corrected.")})
    outcome = merge_facts(
        rows=[(indicator_id, subject_kind, subject_id, business_date, value, 1)],
        source=FactSource(kind="manual", reference=reason[:255], user=by, actor=getattr(by, "username", "")),
    )
    if not outcome.ok:
        raise ValidationError({"value": [error.message for error in outcome.errors]})
    return outcome
