"""Sponsored institutions (承包社): whose pay is tied to which institutions, shown in statements.

Rulebook B, clause 9: "联社班子成员与承包社的绩效挂钩。联社中层与分管主任所包社的业务竞赛指标挂钩。" —
union leaders' performance pay is tied to the institutions they sponsor; middle managers' to the
contest figures of the institutions sponsored by the director they report to. The source gives
no amount and no formula: the pay itself is the bank's payroll, outside the campaign. What the
product owes is the link, configurable, and the linked institutions' results shown where the
person reads their rewards (their statement, page and sheet).

A scheme's ``sponsorships`` (the campaign file's ``rewards[i].sponsorships``)::

    - {staff: E0001, units: [B01, B02]}    # a leader and the institutions they sponsor
    - {staff: E0101, through: E0001}       # a middle manager, tied to their director's institutions

Codes, not keys: a campaign file is loaded before the bank's organisation, so employee numbers
and unit codes are resolved when a statement is read; a code naming nobody is shown as such.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import Sum
from django.utils.translation import gettext as _


def validate(sponsorships) -> None:
    """Raise ValidationError naming ``sponsorships[i].field`` unless the list is well formed."""
    if not isinstance(sponsorships, list):
        raise ValidationError(_("sponsorships: give a list of {staff, units} or {staff, through}."))
    sponsors = {item.get("staff") for item in sponsorships if isinstance(item, dict) and item.get("units")}
    seen = set()
    for index, item in enumerate(sponsorships):
        place = f"sponsorships[{index}]"
        if not isinstance(item, dict) or not isinstance(item.get("staff"), str) or not item["staff"]:
            raise ValidationError(_("%(where)s.staff: give the employee number.") % {"where": place})
        if item["staff"] in seen:
            raise ValidationError(
                _("%(where)s.staff: %(code)s is listed twice.") % {"where": place, "code": item["staff"]}
            )
        seen.add(item["staff"])
        units, through = item.get("units"), item.get("through")
        if (units is None) == (through is None):
            raise ValidationError(
                _("%(where)s: give either units (the institutions sponsored) or through (the director's employee number).")
                % {"where": place}
            )
        if units is not None:
            if not isinstance(units, list) or not units or not all(isinstance(code, str) and code for code in units):
                raise ValidationError(_("%(where)s.units: give a list of unit codes.") % {"where": place})
        elif through not in sponsors:
            raise ValidationError(
                _("%(where)s.through: %(code)s sponsors no institution in this list.")
                % {"where": place, "code": through}
            )


@dataclass(frozen=True)
class SponsoredUnit:
    """One institution a person's pay is tied to, with its results as of the scheme's last payment."""

    scheme_name: str
    unit_code: str
    unit_name: str  # "" when the code names no unit
    through: str  # the director's employee number for a middle manager, else ""
    as_of: datetime.date | None  # the end of the scheme's latest locked run; None before any
    total_points: Decimal | None
    met_all_targets: bool | None
    paid: Decimal  # rewards paid to the institution itself in the scheme's locked runs


def sponsored_units(employee_no: str) -> list[SponsoredUnit]:
    """The institutions ``employee_no``'s pay is tied to, in every scheme naming them (few schemes,
    a handful of queries each: the schemes' lists, their units, paid totals and stored scores)."""
    from branches.models import SubjectKind, Unit
    from rewards.figures import FigureBook
    from rewards.models import PayoutLine, RewardScheme, RunState

    out: list[SponsoredUnit] = []
    for scheme in RewardScheme.objects.exclude(sponsorships=[]).order_by("code"):
        links = {item["staff"]: item for item in scheme.sponsorships if isinstance(item, dict) and "staff" in item}
        mine = links.get(employee_no)
        if mine is None:
            continue
        through = mine.get("through", "")
        codes = list((links.get(through) or {}).get("units", []) if through else mine.get("units", []))
        units = {code: (pk, name) for pk, code, name in Unit.objects.filter(code__in=codes).values_list("pk", "code", "name")}
        as_of = scheme.runs.filter(state=RunState.LOCKED).order_by("-period_end").values_list("period_end", flat=True).first()
        paid = dict(
            PayoutLine.objects.filter(
                run__scheme=scheme, run__state=RunState.LOCKED, payee_kind=SubjectKind.UNIT, unit_code__in=codes
            )
            .values_list("unit_code")
            .annotate(total=Sum("amount"))
        )
        points, met = {}, {}
        if as_of is not None and scheme.campaign_code:
            book = FigureBook(start=scheme.start, as_of=min(as_of, scheme.end), campaign_code=scheme.campaign_code)
            points, met = book.evaluate({"score": "total_points"}), book.evaluate({"score": "met_all_targets"})
        for code in codes:
            pk, name = units.get(code, (None, ""))
            out.append(
                SponsoredUnit(
                    scheme_name=scheme.name,
                    unit_code=code,
                    unit_name=name,
                    through=through,
                    as_of=as_of,
                    total_points=points.get(pk),
                    met_all_targets=bool(met[pk]) if pk in met else None,
                    paid=paid.get(code) or Decimal("0.00"),
                )
            )
    return out
