"""Figures that reward rules read, computed set-based from facts: one query per figure, all subjects.

A figure is described by a small dict (validated by ``validate_expression``) so a rule is data:

- ``{"indicator": "DEP", "measure": "increase"}`` — a fact-based figure. Measures:
  ``value`` (value on the as-of date), ``increase`` (value on the as-of date − value on the base
  date, default the day before the period starts: 年初基数) — a value "on" a day is the latest
  fact on or before it within its calendar month (a month end on a weekend reads the last
  business day's), ``sum`` (sum of daily values over the
  period: flows and counts), ``daily_average`` (sum ÷ calendar days from the period start to the
  as-of date: 日均 over calendar days, the rulebooks' default), ``daily_average_increase``
  (daily average − value on the base date), ``working_day_average`` (sum ÷ the bank's working
  days in the same dates, ``campaigns.bank_calendar``). ``level`` is ``unit`` (default) or ``staff``.
  ``on`` fixes the date (e.g. a target delivered as a figure on the first day);
- ``{"ratio": [numerator, denominator]}`` — a completion rate (完成率); missing or zero
  denominator: no figure for that subject;
- ``{"min": [a, b, …]}`` / ``{"sum": [a, b, …]}`` — lowest / total of several figures (a subject
  needs every part);
- ``{"constant": "300000"}`` — a fixed number (a threshold used in a comparison);
- ``{"working_days": "period", "times": "50"}`` — the bank's working days from the period start to
  the as-of date (holidays and make-up working days from ``campaigns.bank_calendar``; Monday–Friday
  when none are listed), × ``times`` (default 1): one value for every subject (a teller's bar of
  50 transactions per working day of the month);
- read from the scheme's campaign (``RewardScheme.campaign_code``) and its stored results on the
  as-of date (``scoring.selectors.current_result_set``):
  ``{"target": "DEP"}`` (the participant's whole-campaign target for metric DEP),
  ``{"metric": "DEP", "field": "completion"}`` (``actual``, ``target``, ``base`` or
  ``completion`` of the campaign-wide metric result; completion is actual ÷ target from the
  stored figures, unrounded, so money is rounded once), ``{"score": "total_points"}`` (or
  ``base_points``, ``met_all_targets`` and ``vetoed`` as 1/0), ``{"rank": "OVERALL"}`` (the place
  in a named ranking; rank with ``"order": "asc"``), ``{"flag": "green"}`` (1 when set).

Item figures (``rewards.item_figures``): ``{"items": ["TIME_1Y"], "measure": "daily_average",
"above": "2000000", "among": [...]}`` read business items (deposits, policies) one by one: the
part above a bar with the items stacked by date, oldest first.

A target may also be a fact of a target indicator (``{"indicator": "DEP_TARGET", "on":
"2027-01-01"}``). A subject without the figure is left out, never treated as 0.

Figures across subjects and months (``rewards.figures_across``):

- ``{"difference": [a, b]}`` — a − b (the excess over a target: actual − target);
- ``{"of_unit": "HO", "figure": <unit figure>}`` — one unit's value for every subject (a
  whole-bank condition: the bank, as its head-office unit, met its task);
- ``{"across_staff": <staff figure>, "aggregate": "min", "missing": "0"}`` — a unit's figure
  from its staff assigned on the as-of date (``min``, ``max``, ``sum`` or ``count``); with
  ``missing`` a staff member without the figure counts as that number, else is left out;
- ``{"unit_of": <unit figure>}`` — each staff member gets their unit's value, the unit of most of
  the window (``rewards.placement``; a unit-wide condition on a staff rule: nobody in the unit is
  paid when one employee missed);
- ``{"months": <figure>, "op": "<=", "value": "1", "count": "all|streak", "before": <figure>,
  "from": date}`` — how many calendar months from ``from`` (default the campaign's start) to the
  as-of date the figure, read on each month's own dates, met the comparison: ``all`` of them, or
  the ``streak`` of months in a row up to the as-of month. ``before`` (absent = 0) adds the months
  already held before ``from`` (planner input, e.g. a fact dated the day before the campaign).
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import F, Sum, Window
from django.db.models.functions import RowNumber
from django.utils.translation import gettext as _

from branches.models import Fact, SubjectKind
from campaigns.bank_calendar import working_days
from rewards import figures_across, item_figures
from rewards.figures_across import Everyone, subjects_of

CAMPAIGN_SOURCES = ("target", "metric", "score", "rank", "flag")
METRIC_FIELDS = ("actual", "target", "base", "completion")
SCORE_FIELDS = ("total_points", "base_points", "bonus_points", "met_all_targets", "vetoed")
MEASURES = ("value", "increase", "sum", "daily_average", "daily_average_increase", "working_day_average")
LEVELS = {"unit": SubjectKind.UNIT, "staff": SubjectKind.STAFF}
# Figures with one value for every subject: they list no subjects, so they say nothing of the level.
EVERYONE_KEYS = frozenset({"constant", "of_unit", "working_days"})
READ_CHUNK = 10_000  # rows fetched at a time when a figure is read for every subject

Figures = dict[int, Decimal]


def _date(value, where: str) -> datetime.date:
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value))
    except ValueError as error:
        raise ValidationError(
            _("%(where)s: %(value)r is not a date (YYYY-MM-DD).") % {"where": where, "value": value}
        ) from error


def validate_expression(expr, where: str) -> None:
    """Raise ValidationError naming ``where`` (the parameter's path) if ``expr`` is not a figure."""
    if not isinstance(expr, dict) or not expr:
        raise ValidationError(
            _('%(where)s: a figure must be an object such as {"indicator": …}.') % {"where": where}
        )
    if "indicator" in expr:
        if expr.get("measure", "value") not in MEASURES:
            raise ValidationError(
                _("%(where)s.measure: must be one of %(choices)s.")
                % {"where": where, "choices": ", ".join(MEASURES)}
            )
        if expr.get("level", "unit") not in LEVELS:
            raise ValidationError(_("%(where)s.level: must be unit or staff.") % {"where": where})
        for key in ("on", "base_date"):
            if key in expr:
                _date(expr[key], f"{where}.{key}")
        return
    if "ratio" in expr:
        parts = expr["ratio"]
        if not isinstance(parts, list) or len(parts) != 2:
            raise ValidationError(_("%(where)s.ratio: give [numerator, denominator].") % {"where": where})
        for index, part in enumerate(parts):
            validate_expression(part, f"{where}.ratio[{index}]")
        return
    for combiner in ("min", "sum"):
        if combiner in expr:
            parts = expr[combiner]
            if not isinstance(parts, list) or not parts:
                raise ValidationError(
                    _("%(where)s.%(key)s: give a list of figures.") % {"where": where, "key": combiner}
                )
            for index, part in enumerate(parts):
                validate_expression(part, f"{where}.{combiner}[{index}]")
            return
    for source in CAMPAIGN_SOURCES:
        if source in expr:
            if source == "metric" and expr.get("field", "completion") not in METRIC_FIELDS:
                raise ValidationError(
                    _("%(where)s.field: must be one of %(choices)s.")
                    % {"where": where, "choices": ", ".join(METRIC_FIELDS)}
                )
            if source == "score" and expr["score"] not in SCORE_FIELDS:
                raise ValidationError(
                    _("%(where)s.score: must be one of %(choices)s.")
                    % {"where": where, "choices": ", ".join(SCORE_FIELDS)}
                )
            return
    if "constant" in expr:
        try:
            Decimal(str(expr["constant"]))
        except ArithmeticError as error:
            raise ValidationError(_("%(where)s.constant: not a number.") % {"where": where}) from error
        return
    if "items" in expr:
        item_figures.validate(expr, where)
        return
    if "working_days" in expr:
        if expr["working_days"] != "period":
            raise ValidationError(
                _('%(where)s.working_days: must be "period" (the working days from the period start to the as-of date).')
                % {"where": where}
            )
        try:
            Decimal(str(expr.get("times", "1")))
        except ArithmeticError as error:
            raise ValidationError(_("%(where)s.times: not a number.") % {"where": where}) from error
        return
    if any(key in expr for key in figures_across.ACROSS_KEYS):
        figures_across.validate(expr, where, validate_expression, level_of, SubjectKind.STAFF, SubjectKind.UNIT)
        return
    raise ValidationError(
        _(
            "%(where)s: a figure needs one of indicator, items, ratio, min, sum, difference, constant, working_days, "
            "target, metric, score, rank, flag, of_unit, across_staff, unit_of, months."
        )
        % {"where": where}
    )


def same_for_everyone(expr) -> bool:
    """Whether ``expr`` has one value for every subject (a constant, one unit's figure, working
    days, or an arithmetic of those): it lists no subjects, so a rule paying on it pays nobody."""
    if not isinstance(expr, dict):
        return False
    if EVERYONE_KEYS.intersection(expr):
        return True
    for key in ("ratio", "min", "sum", "difference"):
        if isinstance(expr.get(key), list):
            return all(same_for_everyone(part) for part in expr[key])
    if "months" in expr:
        return same_for_everyone(expr["months"])
    return False


def level_of(expr) -> int:
    """The subject kind (unit or staff) an expression's figures are about."""
    if "indicator" in expr or "items" in expr or any(source in expr for source in CAMPAIGN_SOURCES):
        return LEVELS[expr.get("level", "unit")]
    if "across_staff" in expr:
        return SubjectKind.UNIT
    if "unit_of" in expr:
        return SubjectKind.STAFF
    if "months" in expr:
        return level_of(expr["months"])
    for key in ("ratio", "min", "sum", "difference"):
        if key in expr:
            # The first part that lists subjects: a constant or one unit's figure lists none.
            parts = [part for part in expr[key] if not EVERYONE_KEYS.intersection(part)]
            return level_of(parts[0]) if parts else SubjectKind.UNIT
    return SubjectKind.UNIT


@dataclass
class FigureBook:
    """Evaluates figure expressions for one period and as-of date, caching each query's result."""

    start: datetime.date
    as_of: datetime.date
    campaign_code: str = ""
    _cache: dict = field(default_factory=dict)

    def evaluate(self, expr) -> Figures:
        """Every subject's value of ``expr``; subjects lacking a part are absent, not 0."""
        key = json.dumps(expr, sort_keys=True, default=str)
        if key not in self._cache:
            self._cache[key] = self._evaluate(expr)
        return self._cache[key]

    def forget(self) -> None:
        """Drop the figures read so far (a payout run is done with this window)."""
        self._cache.clear()

    def sub_book(self, start: datetime.date, as_of: datetime.date) -> FigureBook:
        """A book for other dates of the same campaign (one month of a streak)."""
        return FigureBook(start=start, as_of=as_of, campaign_code=self.campaign_code)

    def campaign_start(self) -> datetime.date | None:
        from campaigns.models import Campaign

        return Campaign.objects.filter(code=self.campaign_code).values_list("start_date", flat=True).first()

    def _evaluate(self, expr) -> Figures:
        if "indicator" in expr:
            return self._fact_figure(expr)
        if any(source in expr for source in CAMPAIGN_SOURCES):
            return self._campaign_figure(expr)
        if any(key in expr for key in figures_across.ACROSS_KEYS):
            return figures_across.evaluate(self, expr)
        if "constant" in expr:
            return Everyone(Decimal(str(expr["constant"])))
        if "items" in expr:
            return item_figures.evaluate(expr, self.start, self.as_of)
        if "working_days" in expr:
            days = working_days(self.start, self.as_of)
            return Everyone(Decimal(days) * Decimal(str(expr.get("times", "1"))))
        combiner = next(key for key in ("ratio", "min", "sum") if key in expr)
        evaluated = [self.evaluate(part) for part in expr[combiner]]
        common = subjects_of(evaluated)
        if common is None:  # only constants and whole-bank figures: one value for all
            return Everyone(self._combine(combiner, [part.value for part in evaluated]))
        values = {sid: self._combine(combiner, [part[sid] for part in evaluated]) for sid in common}
        return {sid: value for sid, value in values.items() if value is not None}

    @staticmethod
    def _combine(combiner: str, parts: list[Decimal]) -> Decimal | None:
        if combiner == "ratio":
            return parts[0] / parts[1] if parts[1] else None  # no rate without a denominator
        if combiner == "min":
            return min(parts)
        return sum(parts, Decimal(0))

    def _facts(self, expr):
        return Fact.objects.filter(
            indicator__code=expr["indicator"], subject_kind=LEVELS[expr.get("level", "unit")]
        )

    def _value_on(self, expr, day: datetime.date) -> Figures:
        """Each subject's latest value on or before ``day`` within its calendar month.

        A balance or rate delivered on business days has no fact on a weekend month end (31
        January 2027 is a Sunday): read exactly on the day it would go missing, and a condition
        on it would silently never hold. Never reaching into the month before: a subject with no
        fact in the month has no figure. One query (a window over the month's facts)."""
        latest = (
            self._facts(expr)
            .filter(business_date__gte=day.replace(day=1), business_date__lte=day)
            .annotate(
                newest=Window(RowNumber(), partition_by=[F("subject_id")], order_by=F("business_date").desc())
            )
            .filter(newest=1)
        )
        # Streamed (a server-side cursor on PostgreSQL): the rows never sit in a list beside the dict.
        return dict(latest.values_list("subject_id", "value").iterator(chunk_size=READ_CHUNK))

    def _fact_figure(self, expr) -> Figures:
        measure = expr.get("measure", "value")
        as_of = _date(expr["on"], "on") if "on" in expr else self.as_of
        base_day = (
            _date(expr["base_date"], "base_date")
            if "base_date" in expr
            else self.start - datetime.timedelta(days=1)
        )
        if measure == "value":
            return self._value_on(expr, as_of)
        if measure == "increase":
            base = self._value_on(expr, base_day)
            return {
                sid: value - base[sid] for sid, value in self._value_on(expr, as_of).items() if sid in base
            }
        totals = dict(
            self._facts(expr)
            .filter(business_date__gte=self.start, business_date__lte=as_of)
            .values("subject_id")
            .annotate(total=Sum("value"))
            .values_list("subject_id", "total")
            .iterator(chunk_size=READ_CHUNK)
        )
        if measure == "sum":
            return totals
        if measure == "working_day_average":
            worked = working_days(self.start, as_of)
            return {sid: total / worked for sid, total in totals.items()} if worked else {}
        days = Decimal((as_of - self.start).days + 1)
        averages = {sid: total / days for sid, total in totals.items()}
        if measure == "daily_average":
            return averages
        base = self._value_on(expr, base_day)
        return {sid: value - base[sid] for sid, value in averages.items() if sid in base}

    def _campaign_figure(self, expr) -> Figures:
        """Figures the campaigns and scoring apps store, keyed by the participant's subject id."""
        from campaigns.models import Campaign, Participant, Target, TargetPeriod
        from scoring import selectors as scoring
        from scoring.models import ParticipantFlag, ParticipantResult, RankEntry, Ranking

        campaign = Campaign.objects.filter(code=self.campaign_code).first()
        if campaign is None:
            return {}
        # Keyed by subject id, so only participants of the expression's level: in a mixed campaign a
        # unit and a staff member may share an id.
        subjects = dict(
            Participant.objects.filter(campaign=campaign, subject_kind=LEVELS[expr.get("level", "unit")]).values_list(
                "pk", "subject_id"
            )
        )
        if "target" in expr:
            rows = Target.objects.filter(
                campaign=campaign, metric__code=expr["target"], period=TargetPeriod.CAMPAIGN
            )
            pairs = rows.values_list("participant_id", "target_value")
        elif "flag" in expr:
            flagged = ParticipantFlag.objects.filter(campaign=campaign, code=expr["flag"])
            # Only participants of the asked level: a unit's flag is no staff member's.
            return {
                subjects[pid]: Decimal(1) for pid in flagged.values_list("participant_id", flat=True) if pid in subjects
            }
        else:
            result_set = scoring.current_result_set(campaign.pk, self.as_of)
            if result_set is None:
                return {}
            if "metric" in expr:
                metric_id = campaign.metrics.filter(code=expr["metric"]).values_list("pk", flat=True).first()
                # One array element per participant's score sheet, not the view's unnest of every metric.
                field_name = expr.get("field", "completion")
                if field_name == "completion":
                    pairs = _completion(scoring.sheet_figures, result_set, metric_id).items()
                else:
                    pairs = scoring.sheet_figures(result_set, metric_id, field=field_name).items()
            elif "score" in expr:
                pairs = ParticipantResult.objects.filter(result_set_id=result_set.pk).values_list(
                    "participant_id", expr["score"]
                )
            else:
                ranking_id = (
                    Ranking.objects.filter(campaign=campaign, code=expr["rank"])
                    .values_list("pk", flat=True)
                    .first()
                )
                pairs = RankEntry.objects.filter(
                    result_set_id=result_set.pk, ranking_id=ranking_id
                ).values_list("participant_id", "rank")
        return {
            subjects[pid]: Decimal(int(value) if isinstance(value, bool) else value)
            for pid, value in pairs
            if value is not None and pid in subjects
        }


def _completion(sheet_figures, result_set, metric_id) -> dict:
    """{participant id: actual ÷ target} of one metric, for money (two reads of the score sheets).

    The sheets keep the completion rounded to 6 decimals, but actual and target exactly (4
    decimals) for value and increase figures: money paid pro rata on the stored rate would be
    rounded twice (3,000 × 0.888888 = 2,666.66 where 3,000 × 8,888,884 ÷ 10,000,000 = 2,666.67).
    As the scoring does, no rate without a target above 0."""
    actuals = sheet_figures(result_set, metric_id, field="actual")
    targets = sheet_figures(result_set, metric_id, field="target")
    return {
        pid: actual / targets[pid]
        for pid, actual in actuals.items()
        if actual is not None and targets.get(pid) is not None and targets[pid] > 0
    }
