"""A campaign's configuration: period, phases, participants, ranking groups, metrics and targets.

Everything here is plain fields (and small validated JSON for open-point settings) so that the
campaign file and the planner's forms can round-trip it. Validation lives in
``campaigns.validation``; each model's ``clean()`` calls it, so forms, the file and the API agree.
Scoring rules, gates and rankings are in ``scoring.models``.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from branches.models import UNIT_CODE_VALIDATOR, Indicator, Measure, Staff, SubjectKind, Unit


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", _("Draft (草稿)")
    ACTIVE = "active", _("Active (进行中)")
    CLOSED = "closed", _("Closed (已结束)")
    ARCHIVED = "archived", _("Archived (已归档)")


class ParticipantLevel(models.TextChoices):
    UNIT = "unit", _("Units (机构)")
    STAFF = "staff", _("Staff (人员)")
    MIXED = "mixed", _("Units and staff side by side (机构与人员混合)")


class Campaign(models.Model):
    code = models.CharField(_("campaign code"), max_length=40, unique=True, validators=[UNIT_CODE_VALIDATOR])
    name = models.CharField(_("name"), max_length=200)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"))
    status = models.CharField(_("status"), max_length=10, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT)
    participant_level = models.CharField(
        _("participant level"), max_length=10, choices=ParticipantLevel.choices, default=ParticipantLevel.UNIT
    )
    total_points = models.DecimalField(
        _("total points"), max_digits=8, decimal_places=2, default=Decimal("100"),
        help_text=_("The base points of the scoring scheme must add up to this (百分制)."),
    )
    recompute_time = models.TimeField(
        _("recompute time"), default=datetime.time(7, 30), help_text=_("Daily recompute, in the bank's time zone.")
    )
    options = models.JSONField(
        _("options"), default=dict, blank=True,
        help_text=_("Open-point settings chosen by the planner, e.g. {\"met_all_covers_bonus\": false}."),
    )
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("published by"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["-start_date", "code"]
        constraints = [
            models.CheckConstraint(condition=Q(end_date__gte=models.F("start_date")), name="campaign_dates_ordered"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def clean(self):
        from campaigns import validation

        validation.validate_campaign(self)

    @property
    def subject_kind(self) -> int | None:
        """The fact subject kind of every participant; None for a mixed campaign (each participant has its own)."""
        if self.participant_level == ParticipantLevel.MIXED:
            return None
        return SubjectKind.STAFF if self.participant_level == ParticipantLevel.STAFF else SubjectKind.UNIT

    def time_progress(self, day: datetime.date) -> Decimal:
        """时间进度 of the campaign on ``day`` (see ``campaigns.selectors.time_progress``)."""
        from campaigns.selectors import time_progress

        return time_progress(start=self.start_date, end=self.end_date, day=day)


class Phase(models.Model):
    campaign = models.ForeignKey(Campaign, verbose_name=_("campaign"), on_delete=models.CASCADE, related_name="phases")
    code = models.CharField(_("phase code"), max_length=40, validators=[UNIT_CODE_VALIDATOR])
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"))
    target_share = models.DecimalField(
        _("share of target"), max_digits=7, decimal_places=4, default=Decimal("0"),
        help_text=_("Fraction of the campaign target due in this phase, e.g. 0.30 (节奏安排)."),
    )

    class Meta:
        verbose_name = _("phase")
        verbose_name_plural = _("phases")
        ordering = ["campaign", "start_date"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "code"], name="phase_code_unique_in_campaign"),
            models.CheckConstraint(condition=Q(end_date__gte=models.F("start_date")), name="phase_dates_ordered"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}/{self.code}"

    def clean(self):
        from campaigns import validation

        validation.validate_phase(self)

    def time_progress(self, day: datetime.date) -> Decimal:
        from campaigns.selectors import time_progress

        return time_progress(start=self.start_date, end=self.end_date, day=day)


class Participant(models.Model):
    """A unit or staff member taking part; ``(subject_kind, subject_id)`` is Fact's key."""

    campaign = models.ForeignKey(
        Campaign, verbose_name=_("campaign"), on_delete=models.CASCADE, related_name="participants"
    )
    subject_kind = models.PositiveSmallIntegerField(_("subject kind"), choices=SubjectKind.choices)
    subject_id = models.BigIntegerField(_("subject id"))
    unit = models.ForeignKey(Unit, verbose_name=_("unit"), null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    staff = models.ForeignKey(
        Staff, verbose_name=_("staff member"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    joined_on = models.DateField(_("joined on"), null=True, blank=True, help_text=_("Empty: from the start."))
    left_on = models.DateField(_("left on"), null=True, blank=True, help_text=_("Last day taking part; empty: to the end."))

    class Meta:
        verbose_name = _("participant")
        verbose_name_plural = _("participants")
        ordering = ["campaign", "id"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "subject_kind", "subject_id"], name="participant_once_per_campaign"),
            models.CheckConstraint(
                condition=(Q(subject_kind=SubjectKind.UNIT, unit__isnull=False, staff__isnull=True))
                | (Q(subject_kind=SubjectKind.STAFF, staff__isnull=False, unit__isnull=True)),
                name="participant_subject_matches_kind",
            ),
        ]

    def __str__(self) -> str:
        return str(self.unit or self.staff or self.subject_id)

    def clean(self):
        from campaigns import validation

        validation.validate_participant(self)

    @property
    def code(self) -> str:
        if self.unit_id:
            return self.unit.code
        return self.staff.employee_no if self.staff_id else str(self.subject_id)

    @property
    def display_name(self) -> str:
        subject = self.unit or self.staff
        return subject.name if subject else str(self.subject_id)


class GroupSetKind(models.TextChoices):
    REGION = "region", _("Region or war zone (片区/战区)")
    CATEGORY = "category", _("Category (类别, e.g. 直管机构 / 储蓄所)")
    PAIR = "pair", _("Head-to-head pairs (对手赛)")
    OTHER = "other", _("Other")


class GroupSet(models.Model):
    """One way of splitting participants into groups for ranking (a participant is in at most one group)."""

    campaign = models.ForeignKey(Campaign, verbose_name=_("campaign"), on_delete=models.CASCADE, related_name="group_sets")
    code = models.CharField(_("code"), max_length=40, validators=[UNIT_CODE_VALIDATOR])
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=10, choices=GroupSetKind.choices, default=GroupSetKind.OTHER)

    class Meta:
        verbose_name = _("group set")
        verbose_name_plural = _("group sets")
        constraints = [models.UniqueConstraint(fields=["campaign", "code"], name="groupset_code_unique_in_campaign")]

    def __str__(self) -> str:
        return f"{self.campaign_id}/{self.code}"


class Group(models.Model):
    group_set = models.ForeignKey(GroupSet, verbose_name=_("group set"), on_delete=models.CASCADE, related_name="groups")
    code = models.CharField(_("code"), max_length=40, validators=[UNIT_CODE_VALIDATOR])
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        verbose_name = _("group")
        verbose_name_plural = _("groups")
        constraints = [models.UniqueConstraint(fields=["group_set", "code"], name="group_code_unique_in_set")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class GroupMembership(models.Model):
    group_set = models.ForeignKey(GroupSet, verbose_name=_("group set"), on_delete=models.CASCADE, related_name="+")
    group = models.ForeignKey(Group, verbose_name=_("group"), on_delete=models.CASCADE, related_name="memberships")
    participant = models.ForeignKey(
        Participant, verbose_name=_("participant"), on_delete=models.CASCADE, related_name="memberships"
    )

    class Meta:
        verbose_name = _("group membership")
        verbose_name_plural = _("group memberships")
        constraints = [
            models.UniqueConstraint(fields=["group_set", "participant"], name="membership_one_group_per_set"),
        ]

    def __str__(self) -> str:
        return f"{self.group_id}:{self.participant_id}"

    def save(self, *args, **kwargs):
        # group_set is denormalised from group so that the constraint above can hold.
        self.group_set_id = self.group.group_set_id
        super().save(*args, **kwargs)


class MetricKind(models.TextChoices):
    BALANCE = "balance", _("Balance (余额)")
    FLOW = "flow", _("Flow (发生额)")
    RATIO = "ratio", _("Ratio of two figures (比率)")
    COUNT = "count", _("Count (笔数/台数)")


class Figure(models.TextChoices):
    VALUE_AT_DATE = "value_at_date", _("Value at the date (时点余额)")
    INCREASE_OVER_BASE = "increase_over_base", _("Increase over the base (较年初净增)")
    DAILY_AVERAGE = "daily_average", _("Daily average over the period (日均)")
    DAILY_AVERAGE_INCREASE = "daily_average_increase", _("Increase of the daily average over its base (日均增量)")
    FLOW_SUM = "flow_sum", _("Sum of a flow over the period (累计发生额)")
    RATIO_OF_SUMS = "ratio_of_sums", _("Ratio of sums (e.g. 收回率 = 收回 ÷ 到期)")
    AS_DELIVERED = "as_delivered", _("As delivered by the data warehouse")
    GROWTH_RATE = "growth_rate", _("Growth rate over the base (增长率 = (期末 − 基数) ÷ 基数)")


class Metric(models.Model):
    """A figure the campaign scores, built from the bank's indicators."""

    campaign = models.ForeignKey(Campaign, verbose_name=_("campaign"), on_delete=models.CASCADE, related_name="metrics")
    code = models.CharField(_("metric code"), max_length=40, validators=[UNIT_CODE_VALIDATOR])
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)
    measure = models.CharField(_("measure"), max_length=10, choices=Measure.choices, default=Measure.AMOUNT)
    display_unit = models.CharField(_("display unit"), max_length=10, blank=True, help_text=_("万元, 台, 笔, %"))
    kind = models.CharField(_("kind"), max_length=10, choices=MetricKind.choices, default=MetricKind.BALANCE)
    figure = models.CharField(_("figure scored"), max_length=30, choices=Figure.choices, default=Figure.VALUE_AT_DATE)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("metric")
        verbose_name_plural = _("metrics")
        ordering = ["campaign", "position", "code"]
        constraints = [models.UniqueConstraint(fields=["campaign", "code"], name="metric_code_unique_in_campaign")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def clean(self):
        from campaigns import validation

        validation.validate_metric(self)


class ComponentRole(models.TextChoices):
    TERM = "term", _("Term of the sum")
    NUMERATOR = "numerator", _("Numerator (分子)")
    DENOMINATOR = "denominator", _("Denominator (分母)")


class MetricComponent(models.Model):
    """An indicator that adds to (sign +1) or subtracts from (-1) a metric, or a ratio's part."""

    metric = models.ForeignKey(Metric, verbose_name=_("metric"), on_delete=models.CASCADE, related_name="components")
    indicator = models.ForeignKey(Indicator, verbose_name=_("indicator"), on_delete=models.PROTECT, related_name="+")
    sign = models.SmallIntegerField(_("sign"), default=1, choices=[(1, "+"), (-1, "−")])
    role = models.CharField(_("role"), max_length=12, choices=ComponentRole.choices, default=ComponentRole.TERM)

    class Meta:
        verbose_name = _("metric component")
        verbose_name_plural = _("metric components")
        constraints = [
            models.UniqueConstraint(fields=["metric", "indicator", "role"], name="component_once_per_role"),
        ]

    def __str__(self) -> str:
        return f"{self.metric_id}:{'+' if self.sign > 0 else '-'}{self.indicator_id}"


class TargetPeriod(models.TextChoices):
    CAMPAIGN = "campaign", _("Whole campaign")
    PHASE = "phase", _("Phase")
    MONTH = "month", _("Month")


class Target(models.Model):
    """A participant's target (任务) for a metric over the campaign, a phase or a month."""

    campaign = models.ForeignKey(Campaign, verbose_name=_("campaign"), on_delete=models.CASCADE, related_name="targets")
    participant = models.ForeignKey(
        Participant, verbose_name=_("participant"), on_delete=models.CASCADE, related_name="targets"
    )
    metric = models.ForeignKey(Metric, verbose_name=_("metric"), on_delete=models.CASCADE, related_name="targets")
    period = models.CharField(_("period"), max_length=10, choices=TargetPeriod.choices, default=TargetPeriod.CAMPAIGN)
    phase = models.ForeignKey(Phase, verbose_name=_("phase"), null=True, blank=True, on_delete=models.CASCADE)
    month = models.DateField(_("month"), null=True, blank=True, help_text=_("First day of the month."))
    # period_start is filled from the period so that the scoring SQL joins one column.
    period_start = models.DateField(_("period start"), editable=False)
    target_value = models.DecimalField(_("target"), max_digits=20, decimal_places=4)
    base_value = models.DecimalField(
        _("base value (年初基数)"), max_digits=20, decimal_places=4, null=True, blank=True,
        help_text=_("Empty: the figure on the day before the campaign starts."),
    )

    class Meta:
        verbose_name = _("target")
        verbose_name_plural = _("targets")
        constraints = [
            models.UniqueConstraint(
                fields=["participant", "metric", "period", "period_start"], name="target_once_per_period"
            ),
        ]
        indexes = [models.Index(fields=["metric", "period", "period_start"], name="target_metric_period_idx")]

    def __str__(self) -> str:
        return f"{self.participant_id}/{self.metric_id}/{self.period}:{self.target_value}"

    def save(self, *args, **kwargs):
        if self.period == TargetPeriod.MONTH and self.month:
            self.month = self.month.replace(day=1)
        self.period_start = self.compute_period_start()
        super().save(*args, **kwargs)

    def clean(self):
        from campaigns import validation

        validation.validate_target(self)

    def compute_period_start(self) -> datetime.date | None:
        if self.period == TargetPeriod.PHASE:
            return self.phase.start_date if self.phase_id else None
        if self.period == TargetPeriod.MONTH:
            return self.month.replace(day=1) if self.month else None
        return self.campaign.start_date if self.campaign_id else None


class CalendarDay(models.Model):
    """A day of the bank's working calendar that differs from Monday–Friday: a public holiday on a
    weekday (``working`` false) or a make-up working day on a weekend (调休, ``working`` true).

    One calendar for the whole bank, kept by the planner (admin, or the campaign file's
    ``calendar`` section). Days not listed follow Monday–Friday; ``campaigns.bank_calendar``
    counts working days from it.
    """

    day = models.DateField(_("date"), unique=True)
    working = models.BooleanField(
        _("working day"), help_text=_("Off: a public holiday. On: a make-up working day (调休) on a weekend.")
    )
    name = models.CharField(_("name"), max_length=100, blank=True, help_text=_("e.g. 春节, 春节调休上班"))

    class Meta:
        verbose_name = _("bank calendar day")
        verbose_name_plural = _("bank calendar days")
        ordering = ["day"]

    def __str__(self) -> str:
        return f"{self.day.isoformat()} {self.name}".strip()
