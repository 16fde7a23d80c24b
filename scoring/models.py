"""Scoring configuration (rules, gates, rankings, planner flags) and a day's stored results.

Configuration is plain fields plus a small JSON of parameters validated by the rule kind
(``scoring.rules``), so the campaign file and the planner's forms can round-trip it.

Results: one ``ResultSet`` per (campaign, business date, version). Exactly one version of a day is
current; ``scoring.engine.recompute`` writes a new version and switches ``is_current`` in one
transaction, so readers see the old board or the new one. Result rows carry plain ids (no
database foreign keys) because they are written in bulk by INSERT … SELECT and removed with their
result set.
"""

from __future__ import annotations

import json
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from branches.models import UNIT_CODE_VALIDATOR
from campaigns.models import Campaign, GroupSet, Metric, Participant

POINTS = {"max_digits": 14, "decimal_places": 4}
FIGURE = {"max_digits": 24, "decimal_places": 6}


class RuleKind(models.TextChoices):
    COMPLETION = "completion", _("Completion rate × points (完成率计分)")
    THRESHOLD = "threshold", _("Threshold: full points at the bar (达标计分)")
    RELATIVE_TO_BEST = "relative_to_best", _("Relative to the best (比最高额)")
    BANDS = "bands", _("Bands (分档计分)")
    BONUS = "bonus", _("Bonus item (加分项)")
    PARTS = "parts", _("Parts of one metric (分项计分)")


class Evaluation(models.TextChoices):
    CUMULATIVE = "cumulative", _("On the cumulative figure (累计)")
    MONTHLY = "monthly", _("Each month (逐月考核)")


class MonthlyCombine(models.TextChoices):
    AVERAGE = "average", _("Average of the months")
    LAST = "last", _("Last month")
    ALL_PASS = "all_pass", _("Full points only when every month earns them")


class ScoringRule(models.Model):
    """One line of the points scheme: a rule kind applied to a metric with parameters."""

    campaign = models.ForeignKey(Campaign, verbose_name=_("campaign"), on_delete=models.CASCADE, related_name="rules")
    code = models.CharField(_("rule code"), max_length=40, validators=[UNIT_CODE_VALIDATOR])
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("rule kind"), max_length=20, choices=RuleKind.choices)
    metric = models.ForeignKey(
        Metric, verbose_name=_("metric"), null=True, blank=True, on_delete=models.PROTECT, related_name="rules"
    )
    points = models.DecimalField(_("points"), **POINTS, help_text=_("The rule's weight in the scheme (分值)."))
    parent = models.ForeignKey(
        "self", verbose_name=_("part of"), null=True, blank=True, on_delete=models.CASCADE, related_name="parts",
        # xgettext:no-python-format
        help_text=_("For a part of a 'parts' rule (e.g. 40 % of the deposit points)."),
    )
    evaluation = models.CharField(
        _("evaluation"), max_length=12, choices=Evaluation.choices, default=Evaluation.CUMULATIVE
    )
    monthly_combine = models.CharField(
        _("quarter result from months"), max_length=10, choices=MonthlyCombine.choices, default=MonthlyCombine.AVERAGE
    )
    group_set = models.ForeignKey(
        GroupSet, verbose_name=_("best within groups of"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+", help_text=_("Relative to the best: empty compares with every participant."),
    )
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    participants = models.JSONField(
        _("scored participants"), default=dict, blank=True,
        help_text=_('Empty: everybody. e.g. {"level": "staff"} or {"level": "unit", "unit_kinds": ["branch"], "categories": ["储蓄所"]}.'),
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("scoring rule")
        verbose_name_plural = _("scoring rules")
        ordering = ["campaign", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["campaign", "code"], name="rule_code_unique_in_campaign")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def clean(self):
        from scoring import validation

        validation.validate_rule(self)

    @property
    def is_bonus(self) -> bool:
        return self.kind == RuleKind.BONUS

    def rule_kind(self):
        """The validated rule-kind object (``scoring.rules``) for this rule."""
        from scoring.rules import rule_kind_for

        return rule_kind_for(self)


class ParticipantFlag(models.Model):
    """An eligibility or veto flag the planner sets per participant (e.g. ``green``, ``falsified``)."""

    campaign = models.ForeignKey(Campaign, verbose_name=_("campaign"), on_delete=models.CASCADE, related_name="+")
    participant = models.ForeignKey(Participant, verbose_name=_("participant"), on_delete=models.CASCADE, related_name="flags")
    code = models.CharField(_("flag"), max_length=40, validators=[UNIT_CODE_VALIDATOR])
    note = models.CharField(_("note"), max_length=200, blank=True)
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("set by"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    set_at = models.DateTimeField(_("set at"), auto_now=True)

    class Meta:
        verbose_name = _("participant flag")
        verbose_name_plural = _("participant flags")
        constraints = [models.UniqueConstraint(fields=["participant", "code"], name="flag_once_per_participant")]

    def __str__(self) -> str:
        return f"{self.participant_id}:{self.code}"


class GateKind(models.TextChoices):
    FLAG = "flag", _("Veto when a flag is set (一票否决)")
    METRIC_BELOW = "metric_below", _("Veto when a figure is below a floor")
    STAFF_BELOW = "staff_below", _("Veto a unit when one of its staff is below a floor (e.g. 刷卡消费 each employee)")
    METRIC_ABOVE = "metric_above", _("Hit when a figure is above a ceiling (控制上限)")


class GateEffect(models.TextChoices):
    VETO = "veto", _("Veto: out of the rankings (一票否决)")
    WARN = "warn", _("Warning only: shown, not scored (预警)")


class Gate(models.Model):
    """A veto (一票否决): a participant it hits is taken out of the named rankings (all when none named).

    With ``effect`` warn it only warns: the hit is shown on the board and the participant's page
    (e.g. rulebook A's new loans above 70 % of the new deposits), no ranking or score changes.
    ``per_metric``: the gate reads the metric's figure ÷ this metric's figure (a share or a ratio).
    """

    campaign = models.ForeignKey(Campaign, verbose_name=_("campaign"), on_delete=models.CASCADE, related_name="gates")
    code = models.CharField(_("gate code"), max_length=40, validators=[UNIT_CODE_VALIDATOR])
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=15, choices=GateKind.choices)
    flag = models.CharField(_("flag"), max_length=40, blank=True, help_text=_("For a flag gate: the flag that vetoes."))
    metric = models.ForeignKey(Metric, verbose_name=_("metric"), null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    on_completion = models.BooleanField(_("on the completion rate"), default=False)
    minimum = models.DecimalField(_("minimum"), **FIGURE, null=True, blank=True)
    maximum = models.DecimalField(_("maximum"), **FIGURE, null=True, blank=True, help_text=_("For a ceiling: the highest figure allowed."))
    per_metric = models.ForeignKey(
        Metric, verbose_name=_("divided by"), null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text=_("Empty: the metric's figure. Else the figure ÷ this metric's figure (e.g. new loans ÷ new deposits)."),
    )
    effect = models.CharField(_("effect"), max_length=4, choices=GateEffect.choices, default=GateEffect.VETO)
    rankings = models.ManyToManyField(
        "Ranking", verbose_name=_("rankings"), blank=True, related_name="gates", help_text=_("Empty: every ranking.")
    )
    participants = models.JSONField(
        _("checked participants"), default=dict, blank=True,
        help_text=_('Empty: everybody. e.g. {"level": "staff"}: a floor on a staff metric never vetoes a unit.'),
    )

    class Meta:
        verbose_name = _("gate")
        verbose_name_plural = _("gates")
        constraints = [models.UniqueConstraint(fields=["campaign", "code"], name="gate_code_unique_in_campaign")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def clean(self):
        from scoring import validation

        validation.validate_gate(self)


class RankingBasis(models.TextChoices):
    TOTAL_SCORE = "total_score", _("Total score (总得分)")
    RULE_POINTS = "rule_points", _("Points of one rule")
    METRIC_FIGURE = "metric_figure", _("A metric's figure (largest, 最大)")
    METRIC_COMPLETION = "metric_completion", _("A metric's completion rate (fastest, 最快)")


class TieBreak(models.TextChoices):
    COMPETITION = "competition", _("Standard competition: 1, 2, 2, 4")
    DENSE = "dense", _("Dense: 1, 2, 2, 3")
    ORDINAL = "ordinal", _("Ordinal: 1, 2, 3, 4 (earlier participant first)")


class RankingPeriod(models.TextChoices):
    CAMPAIGN = "campaign", _("Whole campaign")
    MONTH = "month", _("Current month")
    PHASE = "phase", _("A phase (current, or the one named)")


class GroupAggregate(models.TextChoices):
    SUM = "sum", _("Sum of the members' values")
    AVERAGE = "average", _("Average of the members' values")
    COMPLETION_OF_SUMS = "completion_of_sums", _("Σ actual ÷ Σ target of the members")


class Ranking(models.Model):
    """A leaderboard: who is ranked (eligibility), on what, within which groups, and how ties go."""

    campaign = models.ForeignKey(Campaign, verbose_name=_("campaign"), on_delete=models.CASCADE, related_name="rankings")
    code = models.CharField(_("ranking code"), max_length=40, validators=[UNIT_CODE_VALIDATOR])
    name = models.CharField(_("name"), max_length=100)
    basis = models.CharField(_("ranked on"), max_length=20, choices=RankingBasis.choices, default=RankingBasis.TOTAL_SCORE)
    metric = models.ForeignKey(Metric, verbose_name=_("metric"), null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    rule = models.ForeignKey(ScoringRule, verbose_name=_("rule"), null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    group_set = models.ForeignKey(
        GroupSet, verbose_name=_("per group of"), null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text=_("Empty: one overall ranking."),
    )
    period = models.CharField(
        _("period"), max_length=10, choices=RankingPeriod.choices, default=RankingPeriod.CAMPAIGN,
        help_text=_("For a metric's figure or rate: the campaign so far, the current month, or a phase. Eligibility floors read the same period."),
    )
    phase = models.CharField(
        _("phase code"), max_length=40, blank=True,
        help_text=_("For period 'phase': the phase to rank; empty = the phase the day falls in (the last begun one after it)."),
    )
    participants = models.JSONField(
        _("ranked participants"), default=dict, blank=True,
        help_text=_('Empty: everybody. e.g. {"level": "unit"}, {"level": "staff"}, {"unit_kinds": ["outlet"]}, {"categories": ["储蓄所"]}.'),
    )
    only_groups = models.JSONField(
        _("only these groups"), default=list, blank=True,
        help_text=_("Codes of groups of the group set to rank; empty: every group."),
    )
    rank_groups = models.BooleanField(
        _("rank the groups against each other"), default=False,
        help_text=_("The subjects are the groups of the group set (战区 PK), valued by an aggregate of their members."),
    )
    group_aggregate = models.CharField(
        _("group value"), max_length=20, choices=GroupAggregate.choices, default=GroupAggregate.SUM,
        help_text=_("For groups ranked against each other: how the members' values combine."),
    )
    tie_break_metric = models.CharField(
        _("tie-break metric"), max_length=40, blank=True,
        help_text=_("A metric code: equal values are ordered by this metric's figure (largest first) before the tie rule applies."),
    )
    descending = models.BooleanField(_("highest first"), default=True)
    tie_break = models.CharField(_("ties"), max_length=12, choices=TieBreak.choices, default=TieBreak.COMPETITION)
    top_n = models.PositiveIntegerField(_("top N"), null=True, blank=True)
    bottom_n = models.PositiveIntegerField(_("bottom N"), null=True, blank=True)
    eligibility = models.JSONField(
        _("eligibility floors"), default=list, blank=True,
        help_text=_('e.g. [{"metric": "premium", "on": "figure", "min": "3000000"}, {"metric": "premium", "on": "completion", "min": "0.45"}]'),
    )
    required_flags = models.JSONField(
        _("required flags"), default=list, blank=True,
        help_text=_('"met_all_targets", "met:METRIC" or a planner flag such as "green"; "not:" before one requires its absence.'),
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("ranking")
        verbose_name_plural = _("rankings")
        ordering = ["campaign", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["campaign", "code"], name="ranking_code_unique_in_campaign")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def clean(self):
        from scoring import validation

        validation.validate_ranking(self)


# --- Results ------------------------------------------------------------------------------


class PhaseResult(models.Model):
    """A participant's figure for one metric over one phase (actual over the phase's dates so far).

    target = the phase target, else the campaign target × the phase's share; completion = actual ÷ target.
    """

    pk = models.CompositePrimaryKey("result_set_id", "participant_id", "metric_id", "phase_id")
    result_set_id = models.BigIntegerField()
    participant_id = models.BigIntegerField()
    metric_id = models.BigIntegerField()
    phase_id = models.BigIntegerField()
    period_start = models.DateField()
    actual = models.DecimalField(**FIGURE, null=True)
    target = models.DecimalField(**FIGURE, null=True)
    base = models.DecimalField(**FIGURE, null=True)
    completion = models.DecimalField(**FIGURE, null=True)

    def __str__(self) -> str:
        return f"{self.participant_id}/{self.metric_id}@{self.phase_id}={self.actual}"


class GroupRankEntry(models.Model):
    """A group's place when the groups of a set are ranked against each other (e.g. war zones)."""

    pk = models.CompositePrimaryKey("result_set_id", "ranking_id", "group_id")
    result_set_id = models.BigIntegerField()
    ranking_id = models.BigIntegerField()
    group_id = models.BigIntegerField()
    value = models.DecimalField(**FIGURE)
    actual_sum = models.DecimalField(**FIGURE, null=True)
    target_sum = models.DecimalField(**FIGURE, null=True)
    members = models.PositiveIntegerField()
    rank = models.PositiveIntegerField()
    previous_rank = models.PositiveIntegerField(null=True)
    gap_value = models.DecimalField(**FIGURE, null=True)
    in_top = models.BooleanField(default=False)
    in_bottom = models.BooleanField(default=False)

    class Meta:
        indexes = [models.Index(fields=["result_set_id", "ranking_id", "rank"], name="grouprank_board")]

    def __str__(self) -> str:
        return f"group {self.group_id}#{self.rank}"


class ResultSet(models.Model):
    """One computed board of a campaign for one business date; ``version`` grows with each recompute."""

    campaign = models.ForeignKey(Campaign, verbose_name=_("campaign"), on_delete=models.CASCADE, related_name="result_sets")
    business_date = models.DateField(_("business date"))
    version = models.PositiveIntegerField(_("version"))
    is_current = models.BooleanField(_("current"), default=False)
    computed_at = models.DateTimeField(_("computed at"))
    participant_count = models.PositiveIntegerField(_("participants"), default=0)
    seconds = models.FloatField(_("seconds taken"), default=0)
    # Which metric / rule each position of the score sheets' arrays holds (see ScoreSheet).
    layout = models.JSONField(_("layout"), default=dict, blank=True)

    class Meta:
        verbose_name = _("result set")
        verbose_name_plural = _("result sets")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "business_date", "version"], name="resultset_version_unique"),
            models.UniqueConstraint(
                fields=["campaign", "business_date"], condition=Q(is_current=True), name="resultset_one_current_per_day"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}@{self.business_date} v{self.version}"


class NumberArrayField(models.Field):
    """A list of numbers (None for a missing one): NUMERIC[] on PostgreSQL, a JSON array on SQLite.

    Written by the engine's SQL (``SqlDialect.array``); read back as a list of ``Decimal``.
    """

    def db_type(self, connection):
        return "numeric[]" if connection.vendor == "postgresql" else "text"

    def from_db_value(self, value, expression, connection):
        if value is None:
            return None
        if isinstance(value, str):
            value = json.loads(value)
        return [None if v is None else Decimal(str(v)) for v in value]

    def get_db_prep_value(self, value, connection, prepared=False):
        if value is None:
            return None
        if connection.vendor == "postgresql":
            return [None if v is None else Decimal(v) for v in value]
        return json.dumps([None if v is None else float(v) for v in value])


class ScoreSheet(models.Model):
    """One participant's figures and points over one period of a result set, in one row.

    ``monthly`` false: the campaign so far (period_start = campaign start), with the totals;
    true: one month (period_start = its first day, or the campaign's start for the first month).
    The arrays are positional: ``actual``/``target``/``base``/``completion`` follow the result
    set's ``layout["metrics"]`` (``"month_metrics"`` for a month), ``points``/``reference`` its
    ``layout["rules"]`` (``"month_rules"``). A rule that does not score the participant has None.
    One row per participant instead of one per metric and one per rule: a national staff campaign
    writes 500,000 rows, not 10,000,000 (see docs/performance.md). ``MetricResult``, ``RuleScore``
    and ``ParticipantResult`` are views that read these rows one metric / rule at a time.
    """

    pk = models.CompositePrimaryKey("result_set_id", "participant_id", "monthly", "period_start")
    result_set_id = models.BigIntegerField()
    participant_id = models.BigIntegerField()
    monthly = models.BooleanField(default=False)
    period_start = models.DateField()
    actual = NumberArrayField(null=True)
    target = NumberArrayField(null=True)
    base = NumberArrayField(null=True)
    completion = NumberArrayField(null=True)
    points = NumberArrayField(null=True)
    reference = NumberArrayField(null=True)
    total_points = models.DecimalField(**POINTS, null=True)
    base_points = models.DecimalField(**POINTS, null=True)
    bonus_points = models.DecimalField(**POINTS, null=True)
    met_all_targets = models.BooleanField(null=True)

    def __str__(self) -> str:
        return f"{self.participant_id}@{self.period_start}{'m' if self.monthly else ''}"


class MetricResult(models.Model):
    """A participant's figure for one metric over the campaign (period_start = campaign start) or a
    month: a view over ``ScoreSheet`` (read-only; the engine writes the sheets)."""

    pk = models.CompositePrimaryKey("result_set_id", "participant_id", "metric_id", "monthly", "period_start")
    result_set_id = models.BigIntegerField()
    participant_id = models.BigIntegerField()
    metric_id = models.BigIntegerField()
    period_start = models.DateField()
    # January's month row and the campaign row share a period_start; this tells them apart.
    monthly = models.BooleanField(default=False)
    actual = models.DecimalField(**FIGURE, null=True)
    target = models.DecimalField(**FIGURE, null=True)
    base = models.DecimalField(**FIGURE, null=True)
    completion = models.DecimalField(**FIGURE, null=True)

    class Meta:
        managed = False

    def __str__(self) -> str:
        return f"{self.participant_id}/{self.metric_id}={self.actual}"


class RuleScore(models.Model):
    """Points of one rule for one participant over the campaign (``monthly`` false, period_start =
    campaign start) or, for a monthly rule, one month's provisional score (``monthly`` true).

    ``reference`` holds the rule's extra number (the best figure for relative-to-best, the number
    of months for a monthly rule) so ``explain()`` can show every figure used. A view over
    ``ScoreSheet`` (read-only).
    """

    pk = models.CompositePrimaryKey("result_set_id", "participant_id", "rule_id", "monthly", "period_start")
    result_set_id = models.BigIntegerField()
    participant_id = models.BigIntegerField()
    rule_id = models.BigIntegerField()
    period_start = models.DateField()
    monthly = models.BooleanField(default=False)
    points = models.DecimalField(**POINTS)
    reference = models.DecimalField(**FIGURE, null=True)

    class Meta:
        managed = False

    def __str__(self) -> str:
        return f"{self.participant_id}/{self.rule_id}={self.points}"


class ParticipantResult(models.Model):
    """A participant's totals on the day: a view over the campaign row of ``ScoreSheet``, vetoed when
    a gate hit them (read-only)."""

    pk = models.CompositePrimaryKey("result_set_id", "participant_id")
    result_set_id = models.BigIntegerField()
    participant_id = models.BigIntegerField()
    total_points = models.DecimalField(**POINTS)
    base_points = models.DecimalField(**POINTS)
    bonus_points = models.DecimalField(**POINTS)
    met_all_targets = models.BooleanField()
    vetoed = models.BooleanField()

    class Meta:
        managed = False

    def __str__(self) -> str:
        return f"{self.participant_id}={self.total_points}"


class GateHit(models.Model):
    """A gate that hit a participant on the day: a veto, or (``warning``) a warning only."""

    pk = models.CompositePrimaryKey("result_set_id", "participant_id", "gate_id")
    result_set_id = models.BigIntegerField()
    participant_id = models.BigIntegerField()
    gate_id = models.BigIntegerField()
    warning = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"{self.participant_id}!{self.gate_id}"


class RankEntry(models.Model):
    """A participant's place in one ranking (and group) on the day, with movement and gap."""

    # Keyed (result set, ranking, participant): each ranking's rows, written in participant order,
    # append at the key's right end (a key leading with the participant split every leaf page when
    # the second ranking was written). A participant's page reads its rankings by (ranking id, participant).
    pk = models.CompositePrimaryKey("result_set_id", "ranking_id", "participant_id")
    result_set_id = models.BigIntegerField()
    ranking_id = models.BigIntegerField()
    participant_id = models.BigIntegerField()
    group_id = models.BigIntegerField(null=True)
    value = models.DecimalField(**FIGURE)
    points = models.DecimalField(**POINTS, null=True)
    rank = models.PositiveIntegerField()
    previous_rank = models.PositiveIntegerField(null=True)
    gap_value = models.DecimalField(**FIGURE, null=True, help_text="To the next better place, in the ranking's terms.")
    gap_points = models.DecimalField(**POINTS, null=True)
    in_top = models.BooleanField(default=False)
    in_bottom = models.BooleanField(default=False)

    class Meta:
        indexes = [
            models.Index(fields=["result_set_id", "ranking_id", "group_id", "rank"], name="rankentry_board"),
        ]

    def __str__(self) -> str:
        return f"{self.participant_id}#{self.rank}"

    @property
    def movement(self) -> int | None:
        """Places gained since the previous day (positive = moved up); None when not ranked then."""
        return None if self.previous_rank is None else self.previous_rank - self.rank


ZERO = Decimal(0)
