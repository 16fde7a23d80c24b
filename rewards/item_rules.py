"""Reward rules decided item by item (``BusinessItem``), computed in one aggregate query.

``item_bands`` (rulebook C, first-sale day 1 – 4 January: "each policy effective in those days
earns an award by its premium band"): every item of ``items`` (kinds) dated in the rule's window
pays the amount of the highest band its own amount reaches; a subject (the agent) is paid the sum
over its items. With ``cancelled_within_days`` (犹豫期退保: a cooling-off period the planner sets;
the rulebook names none, so there is no default), a policy surrendered within that many days of
its date earns nothing; learnt after a payment, the next run claws it back, since each run reads
the items' current state. Without it every policy effective in the window earns its band.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import Case, Count, DecimalField, ExpressionWrapper, F, Q, Sum, Value, When
from django.db.models import DateField as DateOutput
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rewards.item_figures import LEVELS, _kinds
from rewards.models import BusinessItem
from rewards.rule_base import Result, RuleKind, _fmt, _number


class ItemBands(RuleKind):
    """An amount per item by the band its own amount reaches (逐单按档奖励): ``items`` (kinds),
    ``level`` (staff or unit), ``bands`` [{"from": 3000, "amount": 50}, …] (the highest band
    reached pays; below the first, nothing), ``cancelled_within_days`` (optional; none by default)."""

    key = "item_bands"
    label = gettext_lazy("Per-item bands (逐单按档奖励)")

    def check(self):
        _kinds(self.params.get("items"), "items")
        if self.params.get("level", "staff") not in LEVELS:
            raise ValidationError(_("level: must be unit or staff."))
        bands = self.params.get("bands")
        if not bands or not isinstance(bands, list):
            raise ValidationError(_("bands: give at least one band."))
        previous = None
        for index, band in enumerate(bands):
            where = f"bands[{index}]"
            if not isinstance(band, dict):
                raise ValidationError(_("%(where)s: a band is {from, amount}.") % {"where": where})
            start = _number(band, "from", where)
            if previous is not None and start <= previous:
                raise ValidationError(_("%(where)s.from: bands must rise.") % {"where": where})
            previous = start
            _number(band, "amount", where)
        days = _number(self.params, "cancelled_within_days", "cancelled_within_days", required=False)
        if days is not None and (days < 0 or days != days.to_integral_value()):
            raise ValidationError(_("cancelled_within_days: a whole number of days, 0 or more."))

    def level(self):
        return LEVELS[self.params.get("level", "staff")]

    def iter_results(self, window):
        bands = sorted(self.params["bands"], key=lambda band: Decimal(str(band["from"])))
        days = self.params.get("cancelled_within_days")
        money = DecimalField(max_digits=20, decimal_places=2)
        band_amount = Case(
            *[
                When(amount__gte=Decimal(str(band["from"])), then=Value(Decimal(str(band["amount"]))))
                for band in reversed(bands)
            ],
            default=Value(Decimal(0)),
            output_field=money,
        )
        items = BusinessItem.objects.filter(
            subject_kind=self.level(),
            kind__in=_kinds(self.params["items"], "items"),
            date__gte=window.start,
            date__lte=window.as_of,
        )
        if days is not None:
            cooled_off = ExpressionWrapper(
                F("date") + datetime.timedelta(days=int(Decimal(str(days)))), output_field=DateOutput()
            )
            items = items.exclude(Q(end_date__isnull=False) & Q(end_date__lte=cooled_off))
        rows = (
            items.values("subject_id")
            .annotate(
                total=Sum(band_amount),
                items=Count("pk"),
                paid=Count("pk", filter=Q(amount__gte=Decimal(str(bands[0]["from"])))),
            )
            .values_list("subject_id", "total", "items", "paid")
        )
        totals = {sid: (Decimal(str(total)), items, paid) for sid, total, items, paid in rows}
        for sid in self.eligible(window, totals):
            total, items, paid = totals[sid]
            yield sid, Result(
                total,
                {"items": items, "items_in_a_band": paid},
                _("%(paid)s of %(items)s items in a band: %(total)s")
                % {"paid": paid, "items": items, "total": _fmt(total)},
            )
