"""Target decomposition (任务分解): split one unit's target among its sub-units or staff.

Three ways, all pure functions on Decimals: equally, by given weights, or in proportion to last
year's figures. Each share is rounded half-up to ``quantum`` (0.01 yuan by default; 1 for counts
such as POS terminals) and the rounding remainder lands on one named participant, so the shares
always add up exactly to the total (checked before returning).

``last_year_figures`` reads the figures to split by from the facts; the rest touches no database.
Reading a file of targets and writing the split is ``campaigns.decomposition_import``.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from django.utils.translation import gettext as _

EQUAL = "equal"
WEIGHTS = "weights"
LAST_YEAR = "last_year"
FEN = Decimal("0.01")


class DecompositionError(ValueError):
    """The split cannot be made; the message (translated) names the participant or input at fault."""


def split_equally(total: Decimal, keys: Sequence[str], *, remainder_to: str, quantum: Decimal = FEN) -> dict[str, Decimal]:
    """``total`` in equal shares over ``keys`` (in their order); remainder on ``remainder_to``."""
    return split_by_weights(total, {key: Decimal(1) for key in keys}, remainder_to=remainder_to, quantum=quantum)


def split_by_weights(
    total: Decimal, weights: Mapping[str, Decimal], *, remainder_to: str, quantum: Decimal = FEN
) -> dict[str, Decimal]:
    """``total`` × weight ÷ Σ weights for each key, rounded half-up to ``quantum``.

    Raises DecompositionError when there is no participant, a weight is negative, the weights add
    up to 0, or ``remainder_to`` is not a participant. Should half-up rounding of the others leave
    the named participant a share of the wrong sign (its own share is tiny), the others are
    rounded toward zero instead, so the named participant's share always has the total's sign.
    """
    total = Decimal(total)
    if not weights:
        raise DecompositionError(_("There is no participant to split the target among."))
    for key, weight in weights.items():
        if Decimal(weight) < 0:
            raise DecompositionError(_("The weight of %(key)s is negative (%(weight)s).") % {"key": key, "weight": weight})
    weight_sum = sum((Decimal(weight) for weight in weights.values()), Decimal(0))
    if weight_sum == 0:
        raise DecompositionError(_("The weights add up to 0: nothing to split by."))
    if remainder_to not in weights:
        raise DecompositionError(
            _("%(key)s, who should take the rounding remainder, is not among the participants.") % {"key": remainder_to}
        )
    shares = _rounded_shares(total, weights, weight_sum, remainder_to, quantum, ROUND_HALF_UP)
    if shares[remainder_to] != 0 and (shares[remainder_to] < 0) != (total < 0):
        # Half-up rounding of the others overshot the named participant's own small share:
        # round the others toward zero instead, so the remainder keeps the total's sign.
        shares = _rounded_shares(total, weights, weight_sum, remainder_to, quantum, ROUND_DOWN)
    check_sum(total, shares)
    return shares


def _rounded_shares(total, weights, weight_sum, remainder_to, quantum, rounding) -> dict[str, Decimal]:
    shares = {
        key: (total * Decimal(weight) / weight_sum).quantize(quantum, rounding=rounding) for key, weight in weights.items()
    }
    shares[remainder_to] = total - sum((share for key, share in shares.items() if key != remainder_to), Decimal(0))
    return shares


def split_by_last_year(
    total: Decimal, last_year: Mapping[str, Decimal], *, remainder_to: str, quantum: Decimal = FEN
) -> dict[str, Decimal]:
    """``total`` in proportion to each participant's figure last year (negative figures count 0)."""
    weights = {key: max(Decimal(value or 0), Decimal(0)) for key, value in last_year.items()}
    return split_by_weights(total, weights, remainder_to=remainder_to, quantum=quantum)


def check_sum(total: Decimal, shares: Mapping[str, Decimal]) -> None:
    """Raise DecompositionError unless the shares add up exactly to ``total``."""
    added = sum(shares.values(), Decimal(0))
    if added != Decimal(total):
        raise DecompositionError(
            _("The shares add up to %(sum)s, not to the target %(total)s.") % {"sum": added, "total": total}
        )


# Subjects per query (bound-parameter limits).
_SUBJECT_CHUNK = 500


def last_year_figures(
    *,
    subject_kind: int,
    subjects: Mapping[str, int],
    components: Sequence[tuple[int, int]],
    date_from: datetime.date,
    date_to: datetime.date,
) -> dict[str, Decimal]:
    """Each subject's figure over ``date_from``–``date_to`` (0 when there is none).

    ``subjects`` maps the code shown (unit code, employee number) to the Fact subject id;
    ``components`` are (indicator id, sign) pairs, the metric's terms. The figure is the signed
    sum of the components' daily values over the range: for a balance that is the number of days
    times the daily average (日均), so the proportions are the daily averages'; for a flow, the
    flow over the range. One query per 500 subjects.
    """
    from django.db.models import Sum

    from branches.models import Fact

    signs = dict(components)
    ids = list(subjects.values())
    totals: dict[int, Decimal] = {}
    for start in range(0, len(ids), _SUBJECT_CHUNK):
        sums = (
            Fact.objects.filter(
                subject_kind=subject_kind,
                subject_id__in=ids[start : start + _SUBJECT_CHUNK],
                indicator_id__in=list(signs),
                business_date__range=(date_from, date_to),
            )
            .values("subject_id", "indicator_id")
            .annotate(total=Sum("value"))
            .values_list("subject_id", "indicator_id", "total")
        )
        for subject_id, indicator_id, total in sums:
            # SQLite sums decimals in floating point: back to the four places facts hold.
            value = Decimal(str(total)).quantize(Decimal("0.0001")) * signs[indicator_id]
            totals[subject_id] = totals.get(subject_id, Decimal(0)) + value
    return {code: totals.get(subject_id, Decimal(0)) for code, subject_id in subjects.items()}


def split(method: str, total: Decimal, weights: Mapping[str, Decimal], *, remainder_to: str, quantum: Decimal = FEN):
    """Dispatch on ``method`` (EQUAL, WEIGHTS, LAST_YEAR); ``weights`` are ignored for EQUAL."""
    if method == EQUAL:
        return split_equally(total, list(weights), remainder_to=remainder_to, quantum=quantum)
    if method == WEIGHTS:
        return split_by_weights(total, weights, remainder_to=remainder_to, quantum=quantum)
    if method == LAST_YEAR:
        return split_by_last_year(total, weights, remainder_to=remainder_to, quantum=quantum)
    raise DecompositionError(_("Unknown way to split: %(method)s") % {"method": method})
