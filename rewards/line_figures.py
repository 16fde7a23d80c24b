"""A payout line's figures as bankers read them: "存款: 300.00万元 · 完成率: 96.00%".

``PayoutLine.figures`` holds the figures a rule paid on, as the kind wrote them (``{"figure":
"3000000", "above": "0", "counted": "3000000"}``, ``{"completion": "0.96"}``, ``{"rank": 2, "by":
"1"}``): raw numbers in yuan, counts and fractions. ``FigureText`` turns them into one line of text
in the active language for the run page, the statements and the exports: amounts of money in 万元
(exact: as many decimals as the yuan figure needs), rates as percentages, places as places. What a
number is comes from the figure expression of the rule that wrote it (an indicator's or a metric's
measure), read once per rule, so a run of 500,000 lines costs a dictionary walk per line.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

MONEY, COUNT, RATE, PLACE, POINTS, YES_NO, NUMBER, TEXT = (
    "money", "count", "rate", "place", "points", "yes_no", "number", "text"
)

LABELS = {
    "figure": gettext_lazy("figure"),
    "above": gettext_lazy("counted above"),
    "counted": gettext_lazy("counted"),
    "target": gettext_lazy("target"),
    "completion": gettext_lazy("completion"),
    "rank": gettext_lazy("place"),
    "by": gettext_lazy("ranked on"),
    "band_from": gettext_lazy("band from"),
    "own": gettext_lazy("own figure"),
    "rival": gettext_lazy("rival's figure"),
    "items": gettext_lazy("items"),
    "items_in_a_band": gettext_lazy("items in a band"),
    "met_all_targets": gettext_lazy("met every target"),
    "vetoed": gettext_lazy("vetoed"),
    "lowest_completion": gettext_lazy("lowest completion"),
    "reason": gettext_lazy("reason"),
    "entered_by": gettext_lazy("entered by"),
}

# Which parameter of the rule each figure key of a kind was read from (None: the key says it).
KEY_SOURCES = {
    "piece_rate": {"figure": "figure", "above": "figure", "counted": "figure"},
    "shortfall_penalty": {"figure": "figure", "target": "figure"},
    "rank_prize": {"rank": PLACE, "by": "by"},
    "title": {"rank": PLACE, "by": "by"},
    "completion_bonus": {"completion": "completion"},
    "threshold_bands": {"figure": "figure", "band_from": "figure"},
    "head_to_head": {"own": "by", "rival": "by", "completion": "completion"},
    "item_bands": {"items": COUNT, "items_in_a_band": COUNT},
}
MANUAL_KIND = "manual"  # LineKind.MANUAL: its figures are a reason and who entered it
# Keys a reader needs only when they say something: no bar, nothing to show.
SKIP_WHEN_ZERO = {"above"}


class Measures:
    """What the indicators and metrics named in rules measure (amount, count, rate), read lazily
    and cached: one query per code, a run names a handful."""

    def __init__(self, campaign_code: str = ""):
        self.campaign_code = campaign_code
        self._indicators: dict[str, tuple[str, str] | None] = {}
        self._metrics: dict[str, tuple[str, str, str] | None] = {}

    def indicator(self, code: str) -> tuple[str, str] | None:
        """(measure, name) of an indicator, or None when the catalogue has no such code."""
        from branches.models import Indicator

        if code not in self._indicators:
            self._indicators[code] = Indicator.objects.filter(code=code).values_list("measure", "name").first()
        return self._indicators[code]

    def metric(self, code: str) -> tuple[str, str, str] | None:
        """(measure, figure, name) of the campaign's metric, or None."""
        from campaigns.models import Metric

        if code not in self._metrics:
            self._metrics[code] = (
                Metric.objects.filter(campaign__code=self.campaign_code, code=code)
                .values_list("measure", "figure", "name")
                .first()
            )
        return self._metrics[code]


def classify(expr, measures: Measures) -> tuple[str, str]:
    """(what the figure ``expr`` measures, its name or ""), from the figure expression."""
    from branches.models import Measure
    from campaigns.models import Figure

    by_measure = {Measure.AMOUNT: MONEY, Measure.COUNT: COUNT, Measure.RATE: RATE}
    if not isinstance(expr, dict):
        return NUMBER, ""
    if "indicator" in expr:
        found = measures.indicator(expr["indicator"])
        return (by_measure.get(found[0], NUMBER), found[1]) if found else (NUMBER, "")
    if "items" in expr:
        return (COUNT if expr.get("measure") == "count" else MONEY), ""
    if "metric" in expr or "target" in expr:
        found = measures.metric(expr.get("metric") or expr.get("target"))
        if "metric" in expr and expr.get("field", "completion") == "completion":
            return RATE, f"{found[2]} {LABELS['completion']}" if found else ""
        if found is None:
            return NUMBER, ""
        rate = found[1] in (Figure.RATIO_OF_SUMS, Figure.GROWTH_RATE)
        name = f"{found[2]} {LABELS['target']}" if "target" in expr else found[2]
        return (RATE if rate else by_measure.get(found[0], NUMBER)), name
    if "score" in expr:
        if expr["score"] in ("met_all_targets", "vetoed"):
            return YES_NO, str(LABELS[expr["score"]])
        return POINTS, ""
    if "rank" in expr:
        return PLACE, ""
    if "flag" in expr:
        return YES_NO, str(expr["flag"])
    if "ratio" in expr:
        return RATE, ""
    for key in ("min", "sum", "difference"):
        if isinstance(expr.get(key), list) and expr[key]:
            return classify(expr[key][0], measures)[0], ""
    if "of_unit" in expr:
        return classify(expr.get("figure"), measures)[0], ""
    if "unit_of" in expr:
        return classify(expr["unit_of"], measures)[0], ""
    if "across_staff" in expr:
        return (COUNT if expr.get("aggregate") == "count" else classify(expr["across_staff"], measures)[0]), ""
    if "months" in expr or "working_days" in expr:
        return COUNT, ""
    return NUMBER, ""


def _plain(value: Decimal, *, least: int = 0, most: int = 6) -> str:
    """``value`` with thousands separators and between ``least`` and ``most`` decimals, exact when
    it fits (trailing zeros beyond ``least`` dropped)."""
    rounded = value.quantize(Decimal(1).scaleb(-most))
    text = f"{rounded:,f}"
    if "." in text:
        whole, fraction = text.split(".")
        fraction = fraction.rstrip("0").ljust(least, "0")
        text = f"{whole}.{fraction}" if fraction else whole
    elif least:
        text += "." + "0" * least
    return text


def words() -> dict[str, str]:
    """The texts a figure is written with, in the active language (looked up once per page or
    export: a gettext per figure of 500,000 lines would cost more than the writing)."""
    return {
        "money": _("%(amount)s (10,000 yuan)"),
        "place": _("no. %(place)s"),
        "points": _("%(points)s points"),
        "yes": _("yes"),
        "no": _("no"),
        "pair": _("%(label)s: %(value)s"),
    }


def format_value(kind: str, raw, texts: dict[str, str] | None = None) -> str:
    """One figure ``raw`` (a number as stored, or text) shown as ``kind`` in the active language
    (``texts``: ``words()``, when the caller has them already)."""
    if kind == TEXT or raw is None or raw == "":
        return "" if raw is None else str(raw)
    try:
        value = Decimal(str(raw))
    except InvalidOperation:
        return str(raw)
    texts = texts or words()
    if kind == MONEY:
        return texts["money"] % {"amount": _plain(value / 10000, least=2)}
    if kind == RATE:
        return f"{_plain(value * 100, least=2)}%"
    if kind == PLACE:
        return texts["place"] % {"place": _plain(value)}
    if kind == POINTS:
        return texts["points"] % {"points": _plain(value, least=2, most=4)}
    if kind == YES_NO:
        return texts["yes"] if value else texts["no"]
    return _plain(value)


class FigureText:
    """Describes lines' figures; build one per page or export and call it for every line."""

    def __init__(self):
        self._rules: dict = {}  # rule id: (kind, params, measures)
        self._measures: dict[str, Measures] = {}  # per campaign code
        self._keys: dict[tuple, tuple[str, str]] = {}  # (rule id, key): (kind of number, label)
        self._texts = words()

    def _rule(self, rule_id):
        if rule_id not in self._rules:
            from rewards.models import RewardRule

            rule = RewardRule.objects.filter(pk=rule_id).select_related("scheme").first() if rule_id else None
            code = rule.scheme.campaign_code if rule else ""
            measures = self._measures.setdefault(code, Measures(code))
            self._rules[rule_id] = (rule.kind, rule.params, measures) if rule else ("", {}, measures)
        return self._rules[rule_id]

    def _key(self, rule_id, key: str) -> tuple[str, str]:
        """(kind of number, label) of figure ``key`` of a line of ``rule_id``, cached per rule."""
        if (rule_id, key) not in self._keys:
            kind, params, measures = self._rule(rule_id)
            source = KEY_SOURCES.get(kind, {}).get(key)
            label = str(LABELS.get(key, key))
            if source is None:
                number = RATE if key == "completion" else PLACE if key == "rank" else NUMBER
            elif source in (PLACE, COUNT):
                number = source
            else:
                expr = params.get(source)
                number, name = classify(expr, measures)
                # The figure paid on is named for what it is (存款, 存款 完成率, 完成全部任务).
                if key == "completion" and isinstance(expr, dict) and "min" in expr:
                    label = str(LABELS["lowest_completion"])
                elif name and key in ("figure", "completion"):
                    label = name
            self._keys[rule_id, key] = (number, label)
        return self._keys[rule_id, key]

    def __call__(self, *, rule_id, kind: str, figures) -> str:
        """The figures of one line (``kind`` the line's kind: a manual line holds a reason)."""
        if not figures or not isinstance(figures, dict):
            return ""
        texts = self._texts
        pair = texts["pair"]
        if kind == MANUAL_KIND:
            parts = [(LABELS["reason"], figures.get("reason", "")), (LABELS["entered_by"], figures.get("by", ""))]
            return " · ".join(pair % {"label": label, "value": value} for label, value in parts if value)
        shown = []
        for key, raw in figures.items():
            number, label = self._key(rule_id, key)
            if (key in SKIP_WHEN_ZERO and _is_zero(raw)) or (key == "by" and number == PLACE and "rank" in figures):
                continue  # no bar; a place ranked on places says it once
            shown.append(pair % {"label": label, "value": format_value(number, raw, texts)})
        return " · ".join(shown)


def _is_zero(raw) -> bool:
    try:
        return Decimal(str(raw)) == 0
    except InvalidOperation:
        return False
