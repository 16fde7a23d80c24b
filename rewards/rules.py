"""Reward rule kinds: a closed set, each validating its parameters and explaining its result.

A rule is data (``RewardRule.kind`` + ``params``); the kinds here turn figures (``rewards.figures``)
into entitlements: what each payee is owed for the rule's period as of a date, in full Decimal
precision. ``rewards.calculate`` rounds once, applies non-stacking and the budget, and turns
entitlements into payout lines (true-ups and clawbacks against what was already paid).

Parameters every kind accepts:

- ``period``: ``{"start": "2027-01-01", "end": "2027-03-31"}``, default the scheme's dates;
- ``payment``: ``cumulative`` (default: computed on figures to date at every run, paid monthly
  and trued up; a fall is clawed back), ``at_end`` (only once the period has ended), or
  ``each_month`` (each calendar month computed on its own figures; the amounts add up);
- ``participants``: ``{"unit_category": "直管机构", "unit_kinds": ["branch"], "unit_codes": [...]}``;
- ``conditions``: ``[{"figure": <figure>, "op": ">=", "value": "1"}]`` (``value`` a number or a
  figure): gates, flags (a 0/1 indicator such as a green rating) and eligibility; all must hold;
  a condition with ``"positions": ["supervisor"]`` binds only staff in those positions;
- ``beneficiary``: ``unit`` (default for unit figures), ``self`` (the staff member who made the
  figure; default for staff figures), ``head``, ``deputies``, ``every_staff``, ``positions``;
  with ``share`` (e.g. deputies 0.8 of the head's amount), ``excluded_positions`` for
  ``every_staff``, and for ``positions`` a share per paid position (``{"head": "1", "deputy":
  "0.6", "middle_manager": "0.4"}``: a unit's named managers paid 500 / 300 / 200 of 500);
- ``others_share`` with ``full_share_if`` (conditions): subjects meeting the conditions are paid
  in full, every other subject ``others_share`` of its result (rank 1 of the month gets 100 % of
  the month's assessment, everyone else e.g. 90 %);
- ``award`` and ``value``: a title or non-cash award (TOP 300, a trip) and its value for comparison.

The common parameters and the hand-over to beneficiaries live in ``rewards.rule_base``.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from branches.models import SubjectKind, Unit
from rewards.batching import filter_ids
from rewards.figures import level_of, validate_expression
from rewards.figures_across import Everyone
from rewards.item_rules import ItemBands
from rewards.rule_base import (  # noqa: F401 - Window, Entitlement and Result are used through this module
    ZERO,
    Entitlement,
    Result,
    RuleKind,
    Window,
    _floor,
    _fmt,
    _number,
)


class PieceRate(RuleKind):
    """An amount per unit of a figure (计件): ``rate`` per ``per`` of ``figure``, per full block or
    in proportion (``mode``), optionally only on the part ``above`` a bar and ``up_to`` a cap.
    ``above`` is a number or a figure (a bar per subject or period, e.g. 50 × the month's working
    days: ``{"working_days": "period", "times": "50"}``; a subject without it is left out).
    A negative figure earns 0, so money paid for an earlier, higher figure is clawed back."""

    key = "piece_rate"
    main_figures = ("figure",)
    label = gettext_lazy("Piece rate (计件奖励)")

    def check(self):
        validate_expression(self.params.get("figure"), "figure")
        _number(self.params, "rate", "rate")
        if _number(self.params, "per", "per", required=False, default=Decimal(1)) <= 0:
            raise ValidationError(_("per: must be above 0."))
        if self.params.get("mode", "block") not in ("block", "proportional"):
            raise ValidationError(_("mode: must be block or proportional."))
        if isinstance(self.params.get("above"), dict):
            validate_expression(self.params["above"], "above")
        else:
            _number(self.params, "above", "above", required=False)
        _number(self.params, "up_to", "up_to", required=False)

    def level(self):
        return level_of(self.params["figure"])

    def iter_results(self, window):
        figures = window.book.evaluate(self.params["figure"])
        rate = _number(self.params, "rate", "rate")
        per = _number(self.params, "per", "per", required=False, default=Decimal(1))
        if isinstance(self.params.get("above"), dict):
            bars = window.book.evaluate(self.params["above"])
        else:
            bars = Everyone(_number(self.params, "above", "above", required=False, default=ZERO))
        up_to = _number(self.params, "up_to", "up_to", required=False)
        block = self.params.get("mode", "block") == "block"
        for sid in self.eligible(window, [sid for sid in figures if sid in bars]):
            figure, above = figures[sid], bars[sid]
            counted = (min(figure, up_to) if up_to is not None else figure) - above
            counted = max(counted, ZERO)
            units = _floor(counted / per) if block else counted / per
            formula = (
                f"{_fmt(rate)} × {'⌊' if block else ''}{_fmt(counted)} ÷ {_fmt(per)}{'⌋' if block else ''}"
            )
            yield sid, Result(
                rate * units, {"figure": str(figure), "above": str(above), "counted": str(counted)}, formula
            )


class ShortfallPenalty(RuleKind):
    """A penalty per unit below target (差额扣罚): −``rate`` × full units of (target − figure)."""

    key = "shortfall_penalty"
    main_figures = ("figure",)
    label = gettext_lazy("Shortfall penalty (未完成扣罚)")
    penalty = True

    def check(self):
        validate_expression(self.params.get("figure"), "figure")
        validate_expression(self.params.get("target"), "target")
        _number(self.params, "rate", "rate")

    def level(self):
        return level_of(self.params["figure"])

    def iter_results(self, window):
        figures, targets = (
            window.book.evaluate(self.params["figure"]),
            window.book.evaluate(self.params["target"]),
        )
        rate = _number(self.params, "rate", "rate")
        for sid in self.eligible(window, set(figures) & set(targets)):
            short = _floor(max(targets[sid] - figures[sid], ZERO))
            if short:
                yield sid, Result(
                    -rate * short,
                    {"figure": str(figures[sid]), "target": str(targets[sid])},
                    f"-{_fmt(rate)} × {_fmt(short)}",
                )


def competition_ranks(values: dict[int, Decimal], *, descending: bool = True) -> dict[int, int]:
    """Standard competition ranking (1, 2, 2, 4): tied subjects share the better place."""
    ordered = sorted(values.items(), key=lambda item: item[1], reverse=descending)
    ranks, previous, rank = {}, None, 0
    for position, (sid, value) in enumerate(ordered, start=1):
        if value != previous:
            rank, previous = position, value
        ranks[sid] = rank
    return ranks


def ranking_order(params: dict) -> str:
    """``order`` of a rule ranking its subjects by ``by``: ``asc`` (lowest first) or ``desc``.

    Default: a place (``{"rank": X}``) is best when lowest, so ``asc``; any other figure ``desc``
    (the highest figure first). Ranking a place highest first would hand place 1's title or
    prize to the last place."""
    if "order" in params:
        return params["order"]
    by = params.get("by")
    return "asc" if isinstance(by, dict) and "rank" in by else "desc"


def check_order(params: dict) -> None:
    if params.get("order", "desc") not in ("asc", "desc"):
        raise ValidationError(_("order: must be asc (lowest first) or desc (highest first)."))


class RankPrize(RuleKind):
    """Amounts by place in a ranking (名次奖): ``places`` [20000, 15000, …] or ``tiers``
    [{"winners": 1, "amount": 8000}, {"winners": 2, "amount": 6000}, …] (tier prizes), ranked by
    ``by`` among the eligible (conditions filter first), within ``group_by`` (unit category or
    parent) if given, lowest first with ``order: asc`` (default for a place ``{"rank": X}``, else
    highest first). Ties share the better place (1, 2, 2, 4)."""

    key = "rank_prize"
    main_figures = ("by",)
    label = gettext_lazy("Rank or tier prize (名次奖/等次奖)")

    def check(self):
        validate_expression(self.params.get("by"), "by")
        if "tiers" in self.params:
            for index, tier in enumerate(self.params["tiers"]):
                if int(tier.get("winners", 0)) < 1:
                    raise ValidationError(_("tiers[%(index)s].winners: at least 1.") % {"index": index})
                _number(tier, "amount", f"tiers[{index}]")
        elif not self.params.get("places"):
            raise ValidationError(_("places: give the amounts by place, or tiers."))
        for index, amount in enumerate(self.params.get("places", [])):
            _number({"amount": amount}, "amount", f"places[{index}]")
        if self.params.get("group_by") not in (None, "category", "parent"):
            raise ValidationError(_("group_by: must be category or parent."))
        check_order(self.params)

    def level(self):
        return level_of(self.params["by"])

    def place_amounts(self) -> list[tuple[Decimal, str]]:
        if "tiers" in self.params:
            amounts = []
            for number, tier in enumerate(self.params["tiers"], start=1):
                amounts += [
                    (Decimal(str(tier["amount"])), tier.get("award", _("tier %(n)s") % {"n": number}))
                ] * int(tier["winners"])
            return amounts
        return [(Decimal(str(amount)), "") for amount in self.params["places"]]

    def iter_results(self, window):
        values = window.book.evaluate(self.params["by"])
        eligible = self.eligible(window, values)
        groups: dict[object, dict[int, Decimal]] = {}
        group_by = self.params.get("group_by")
        if group_by and self.level() == SubjectKind.UNIT:
            field_name = "category" if group_by == "category" else "parent_id"
            for pk, key in filter_ids(Unit.objects.values_list("pk", field_name), "id", eligible):
                groups.setdefault(key, {})[pk] = values[pk]
        else:
            groups[None] = {sid: values[sid] for sid in eligible}
        amounts = self.place_amounts()
        for members in groups.values():
            for sid, rank in competition_ranks(members, descending=ranking_order(self.params) == "desc").items():
                if rank <= len(amounts):
                    amount, award = amounts[rank - 1]
                    yield sid, Result(
                        amount,
                        {"rank": rank, "by": str(members[sid])},
                        _("place %(rank)s → %(amount)s") % {"rank": rank, "amount": _fmt(amount)},
                        award,
                    )


class CompletionBonus(RuleKind):
    """A bonus when targets are met (达标奖): ``amount`` when ``completion`` ≥ 1; from ``floor``
    (e.g. 0.8) pro rata: amount × completion; below the floor nothing. Conditions say which
    targets must all be met; ``beneficiary`` and ``share`` give amounts per role."""

    key = "completion_bonus"
    main_figures = ("completion",)
    label = gettext_lazy("Completion bonus (达标奖)")

    def check(self):
        validate_expression(self.params.get("completion"), "completion")
        _number(self.params, "amount", "amount")
        floor = _number(self.params, "floor", "floor", required=False)
        if floor is not None and not (0 < floor <= 1):
            raise ValidationError(_("floor: must be above 0 and at most 1 (e.g. 0.8)."))

    def level(self):
        return level_of(self.params["completion"])

    def iter_results(self, window):
        rates = window.book.evaluate(self.params["completion"])
        amount = _number(self.params, "amount", "amount")
        floor = _number(self.params, "floor", "floor", required=False)
        for sid in self.eligible(window, rates):
            rate = rates[sid]
            if rate >= 1:
                yield sid, Result(amount, {"completion": str(rate)}, _fmt(amount))
            elif floor is not None and rate >= floor:
                yield sid, Result(amount * rate, {"completion": str(rate)}, f"{_fmt(amount)} × {rate:.4%}")


class ThresholdBands(RuleKind):
    """The highest band reached pays (档次奖): ``bands`` [{"from": 300000, "amount": 200}, …] or
    {"from": x, "percent": "0.01", "of": <figure>} (a share of a figure), optionally with
    ``step`` {"every": 50000, "amount": 20} (+ amount per full step above the band's start)
    and ``award``/``value`` per band for non-cash awards. ``penalty: true``: the bands are
    deductions (amounts ≤ 0), and a later change is booked as a penalty adjustment."""

    key = "threshold_bands"
    main_figures = ("figure",)
    label = gettext_lazy("Threshold bands (达档奖励)")

    def check(self):
        validate_expression(self.params.get("figure"), "figure")
        bands = self.params.get("bands")
        if not bands:
            raise ValidationError(_("bands: give at least one band."))
        previous = None
        for index, band in enumerate(bands):
            where = f"bands[{index}]"
            start = _number(band, "from", where)
            if previous is not None and start <= previous:
                raise ValidationError(_("%(where)s.from: bands must rise.") % {"where": where})
            previous = start
            if "percent" in band:
                _number(band, "percent", where)
                validate_expression(band.get("of"), f"{where}.of")
            else:
                amount = _number(band, "amount", where, required=not band.get("award"))
                if self.params.get("penalty") is True and amount is not None and amount > 0:
                    raise ValidationError(
                        _("%(where)s.amount: a penalty's bands are 0 or negative.") % {"where": where}
                    )
            if "step" in band:
                _number(band["step"], "every", f"{where}.step")
                _number(band["step"], "amount", f"{where}.step")

    def level(self):
        return level_of(self.params["figure"])

    def iter_results(self, window):
        figures = window.book.evaluate(self.params["figure"])
        bands = sorted(self.params["bands"], key=lambda band: Decimal(str(band["from"])))
        for sid in self.eligible(window, figures):
            figure = figures[sid]
            reached = [band for band in bands if figure >= Decimal(str(band["from"]))]
            if not reached:
                continue
            band = reached[-1]
            start = Decimal(str(band["from"]))
            if "percent" in band:
                base = window.book.evaluate(band["of"]).get(sid, ZERO)
                amount = base * Decimal(str(band["percent"]))
                formula = f"{_fmt(base)} × {Decimal(str(band['percent'])):%}"
            else:
                amount = Decimal(str(band.get("amount", 0)))
                formula = _fmt(amount)
            if "step" in band:
                steps = _floor((figure - start) / Decimal(str(band["step"]["every"])))
                amount += steps * Decimal(str(band["step"]["amount"]))
                formula += f" + {_fmt(steps)} × {band['step']['amount']}"
            yield sid, Result(
                amount,
                {"figure": str(figure), "band_from": str(start)},
                formula,
                band.get("award", ""),
                Decimal(str(band.get("value", 0))),
            )


class HeadToHead(RuleKind):
    """Pairs of units (对手赛): the better ``by`` of each pair gets ``winner_amount``; the other
    pays ``loser_penalty`` if its ``completion`` is below 1. A draw pays nothing."""

    key = "head_to_head"
    main_figures = ("by", "completion")
    label = gettext_lazy("Head-to-head (对手赛)")

    def check(self):
        validate_expression(self.params.get("by"), "by")
        validate_expression(self.params.get("completion"), "completion")
        pairs = self.params.get("pairs")
        if not pairs or any(not isinstance(pair, list) or len(pair) != 2 for pair in pairs):
            raise ValidationError(_('pairs: give pairs of unit codes, e.g. [["B1", "B2"]].'))
        _number(self.params, "winner_amount", "winner_amount")
        _number(self.params, "loser_penalty", "loser_penalty")

    def level(self):
        return SubjectKind.UNIT

    def iter_results(self, window):
        values, rates = (
            window.book.evaluate(self.params["by"]),
            window.book.evaluate(self.params["completion"]),
        )
        ids = dict(
            Unit.objects.filter(code__in=[c for pair in self.params["pairs"] for c in pair]).values_list(
                "code", "pk"
            )
        )
        win = _number(self.params, "winner_amount", "winner_amount")
        lose = _number(self.params, "loser_penalty", "loser_penalty")
        eligible = self.eligible(window, values)
        for code_a, code_b in self.params["pairs"]:
            a, b = ids.get(code_a), ids.get(code_b)
            if a not in eligible or b not in eligible or values[a] == values[b]:
                continue
            winner, loser = (a, b) if values[a] > values[b] else (b, a)
            yield winner, Result(win, {"own": str(values[winner]), "rival": str(values[loser])}, _fmt(win))
            if rates.get(loser, ZERO) < 1:
                yield loser, Result(
                    -lose,
                    {
                        "own": str(values[loser]),
                        "rival": str(values[winner]),
                        "completion": str(rates.get(loser)),
                    },
                    f"-{_fmt(lose)}",
                )


class Title(RuleKind):
    """A title or non-cash award (称号/旅游名额): everyone meeting the conditions, or the top
    ``top_n`` of them by ``by`` (ties at the cut all win; ``order`` as for rank prizes: a place
    ``{"rank": X}`` lowest first, another figure highest first); ``award``, ``value`` and an
    optional cash ``amount``."""

    key = "title"
    main_figures = ("by",)
    label = gettext_lazy("Title or non-cash award (荣誉/实物奖励)")

    def check(self):
        if not self.params.get("award"):
            raise ValidationError(_("award: name the title or award."))
        validate_expression(self.params.get("by"), "by")
        if "top_n" in self.params and int(self.params["top_n"]) < 1:
            raise ValidationError(_("top_n: at least 1."))
        _number(self.params, "amount", "amount", required=False)
        check_order(self.params)

    def level(self):
        return level_of(self.params["by"])

    def iter_results(self, window):
        values = window.book.evaluate(self.params["by"])
        members = {sid: values[sid] for sid in self.eligible(window, values)}
        amount = _number(self.params, "amount", "amount", required=False, default=ZERO)
        ranks = competition_ranks(members, descending=ranking_order(self.params) == "desc")
        top_n = int(self.params.get("top_n", 0)) or len(members)
        for sid, rank in ranks.items():
            if rank <= top_n:
                yield sid, Result(amount, {"rank": rank, "by": str(members[sid])}, self.params["award"])


KINDS: dict[str, type[RuleKind]] = {
    kind.key: kind
    for kind in (PieceRate, ShortfallPenalty, RankPrize, CompletionBonus, ThresholdBands, HeadToHead, Title, ItemBands)
}


def kind_for(kind: str, params: dict) -> RuleKind:
    """The rule kind object for ``kind`` with ``params``; ValidationError for an unknown kind."""
    if kind not in KINDS:
        raise ValidationError(
            _("kind: %(kind)s is not a reward rule kind (%(choices)s).")
            % {"kind": kind, "choices": ", ".join(KINDS)}
        )
    return KINDS[kind](params)


def validate(kind: str, params: dict) -> None:
    """Raise ValidationError naming the parameter if ``params`` are not valid for ``kind``."""
    if not isinstance(params, dict):
        raise ValidationError(_("params: must be an object."))
    kind_for(kind, params).validate()


def explain(kind: str, params: dict) -> str:
    """A one-line description of a rule for planners and statements."""
    rule = kind_for(kind, params)
    parts = [str(rule.label)]
    for key in ("rate", "per", "amount", "places", "tiers", "bands", "floor", "share", "positions", "others_share", "award"):
        if key in params:
            parts.append(f"{key}={params[key]}")
    if params.get("conditions"):
        parts.append(_("%(n)s condition(s)") % {"n": len(params["conditions"])})
    return "; ".join(parts)
