"""Rewards and payouts: a campaign's reward scheme, its rules, payout runs and their lines.

A payout run is what finance approved. Only a draft run's lines change, and once locked the run
never changes: ``save()`` and ``delete()`` refuse here, and database triggers (migrations 0002,
0008) refuse the same at the SQL level, so a ``QuerySet.update()``, a hand-written statement or a
``TRUNCATE`` cannot either. Corrections are new lines in a later run that reference the line they
correct.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from branches.models import SubjectKind


class LockedError(ValidationError):
    """Raised when code tries to change a locked payout run or one of its lines."""


class RewardScheme(models.Model):
    """A campaign's rewards (奖励方案): its rules, its budget and the payout runs made from it.

    ``campaign_code`` names the campaign (campaigns app) whose scores and figures the rules read;
    the scheme lives in this app so payouts do not depend on how campaigns are stored.
    """

    code = models.CharField(_("scheme code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    campaign_code = models.CharField(_("campaign code"), max_length=40, blank=True, db_index=True)
    start = models.DateField(_("campaign start"))
    end = models.DateField(_("campaign end"))
    budget = models.DecimalField(
        _("budget (奖励预算)"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("Total awards may not exceed this; empty: no cap."),
    )
    scale_to_budget = models.BooleanField(
        _("scale awards down pro rata when over budget"),
        default=False,
        help_text=_("Off: the overrun is only shown before approval."),
    )
    # Whose pay is tied to which institutions (承包社, rulebook B clause 9): shown in their
    # statements, paid by nobody here (``rewards.sponsorship``).
    sponsorships = models.JSONField(
        _("sponsored institutions (承包社)"),
        default=list,
        blank=True,
        help_text=_(
            "A list: {staff, units} for a leader and the institutions sponsored; {staff, through} for a "
            "middle manager tied to their director's."
        ),
    )

    class Meta:
        verbose_name = _("reward scheme")
        verbose_name_plural = _("reward schemes")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def clean(self):
        from rewards import sponsorship

        sponsorship.validate(self.sponsorships)


class RewardRule(models.Model):
    """One reward or penalty of a scheme: a kind from ``rewards.rules`` and its parameters.

    ``params`` is validated by the kind (``rewards.rules.validate``) on save, naming the field.
    """

    scheme = models.ForeignKey(
        RewardScheme, verbose_name=_("reward scheme"), on_delete=models.CASCADE, related_name="rules"
    )
    code = models.CharField(_("rule code"), max_length=40)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=30)
    params = models.JSONField(_("parameters"), default=dict)
    stacking_group = models.CharField(
        _("non-stacking group"),
        max_length=40,
        blank=True,
        help_text=_("Rules in the same group do not stack: a payee gets only the highest-valued award."),
    )
    position = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("reward rule")
        verbose_name_plural = _("reward rules")
        ordering = ["scheme_id", "position", "code"]
        constraints = [models.UniqueConstraint(fields=["scheme", "code"], name="reward_rule_code_unique")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def save(self, *args, **kwargs):
        self.clean()
        super().save(*args, **kwargs)

    def clean(self):
        from rewards import references, rules

        rules.validate(self.kind, self.params)
        # A form may clean a rule before its scheme is chosen: nothing to check against yet.
        campaign_code = self.scheme.campaign_code if self.scheme_id else ""
        missing = references.missing_codes(rule_code=self.code, params=self.params, campaign_code=campaign_code)
        if missing:
            raise ValidationError(missing)


class PeriodKind(models.TextChoices):
    MONTH = "month", _("Month (月度)")
    QUARTER = "quarter", _("Quarter (季度)")
    CORRECTION = "correction", _("Correction (更正)")


class RunState(models.TextChoices):
    DRAFT = "draft", _("Draft (草稿)")
    REVIEWED = "reviewed", _("Reviewed (已复核)")
    APPROVED = "approved", _("Approved (已审批)")
    LOCKED = "locked", _("Locked (已锁定)")


class PayoutRun(models.Model):
    """A payout for a month or the quarter, draft → reviewed → approved → locked."""

    scheme = models.ForeignKey(
        RewardScheme, verbose_name=_("reward scheme"), on_delete=models.PROTECT, related_name="runs"
    )
    period_kind = models.CharField(_("period"), max_length=12, choices=PeriodKind.choices)
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    state = models.CharField(_("state"), max_length=10, choices=RunState.choices, default=RunState.DRAFT)
    note = models.TextField(_("note"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("made by"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("made at"), auto_now_add=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    locked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("locked by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    locked_at = models.DateTimeField(_("locked at"), null=True, blank=True)
    # What the scheme's rules were when the lines were calculated (``calculate.rules_fingerprint``):
    # a run whose rules changed since (in the admin, by a campaign file) must be recalculated
    # before it is approved. NULL for a run made without calculation: nullable so that SQLite adds
    # the column in place instead of rebuilding the table, which would drop its locking triggers.
    rules_fingerprint = models.CharField(_("rules when calculated"), max_length=64, null=True, blank=True)  # noqa: DJ001

    class Meta:
        verbose_name = _("payout run")
        verbose_name_plural = _("payout runs")
        ordering = ["-period_end", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(period_end__gte=models.F("period_start")), name="payout_run_period_ordered"
            ),
            # Four eyes, also at the database: the maker never approves their own run.
            models.CheckConstraint(
                condition=Q(approved_by__isnull=True) | ~Q(approved_by=models.F("created_by")),
                name="payout_run_four_eyes",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.scheme.code} {self.period_start}–{self.period_end} ({self.get_state_display()})"

    def save(self, *args, **kwargs):
        if self._locked_in_database():
            raise LockedError(_("Payout run #%(id)s is locked and cannot change.") % {"id": self.pk})
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self._locked_in_database():
            raise LockedError(_("Payout run #%(id)s is locked and cannot be deleted.") % {"id": self.pk})
        return super().delete(*args, **kwargs)

    def _locked_in_database(self) -> bool:
        return self.pk is not None and PayoutRun.objects.filter(pk=self.pk, state=RunState.LOCKED).exists()


class RunChange(models.Model):
    """Who changed a run, and how: an audit record of a draft's lines (made, recalculated, a line
    added), of a warning acknowledged before approval, and of a run sent back to draft (with the
    sign-offs it cleared). The four-eyes check reads it: nobody who made, recalculated, added a
    line to or acknowledged a warning of a run may approve it (``services.approve_payout_run``);
    sending a run back is no such change (the checker who sends it back may approve it later)."""

    class Action(models.TextChoices):
        MADE = "made", _("made (生成)")
        RECALCULATED = "recalculated", _("recalculated (重算)")
        LINE_ADDED = "line_added", _("line added (新增调整行)")
        ACKNOWLEDGED = "acknowledged", _("warning acknowledged (确认提示)")
        RETURNED = "returned", _("sent back to draft (退回草稿)")

    # The changes that make their author one of the run's makers (four eyes).
    MAKING = (Action.MADE, Action.RECALCULATED, Action.LINE_ADDED, Action.ACKNOWLEDGED)
    # The changes after which the lines are new: an acknowledgement before them no longer holds.
    CALCULATING = (Action.MADE, Action.RECALCULATED, Action.LINE_ADDED)

    run = models.ForeignKey(PayoutRun, verbose_name=_("payout run"), on_delete=models.CASCADE, related_name="changes")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("at"), auto_now_add=True)
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    # What the change touched: the lines acknowledged, or the state and sign-offs a return cleared.
    details = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        verbose_name = _("payout run change")
        verbose_name_plural = _("payout run changes")
        ordering = ["run_id", "id"]

    def __str__(self) -> str:
        return f"#{self.run_id} {self.action} {self.by_id}"

    def details_text(self) -> str:
        """What the change touched, in the user's language: the lines acknowledged, or the state a
        run was sent back from and the sign-offs that cleared."""
        if self.action == self.Action.ACKNOWLEDGED:
            return _("lines %(lines)s") % {"lines": ", ".join(f"#{pk}" for pk in self.details.get("lines", []))}
        if self.action == self.Action.RETURNED:
            parts = [_("from %(state)s") % {"state": RunState(self.details["from"]).label}] if self.details.get("from") else []
            for key, text in (("reviewed", _("reviewed by %(by)s at %(at)s")), ("approved", _("approved by %(by)s at %(at)s"))):
                signed = self.details.get(key) or {}
                if signed:
                    parts.append(text % {"by": signed["by"], "at": signed["at"][:16].replace("T", " ")})
            return "; ".join(str(part) for part in parts)
        return ""


class LineKind(models.TextChoices):
    AWARD = "award", _("Award (奖励)")
    PENALTY = "penalty", _("Penalty (扣罚)")
    TRUE_UP = "true_up", _("True-up (季末通算补发)")
    CLAWBACK = "clawback", _("Clawback (扣回)")
    ADJUSTMENT = "adjustment", _("Adjustment (调整)")
    # Added by finance (``services.add_adjustment_line``), not computed: later runs compare the
    # computed entitlement with computed payments only, so they never undo it.
    MANUAL = "manual", _("Manual adjustment (手工调整)")


class PayoutLine(models.Model):
    """One amount to one payee: the rule, the figures, the formula and the amount in yuan.

    Payee details (employee number, unit code and name) are copied when the line is made, so a
    locked run reads the same after a staff member moves or a unit is renamed. Penalties and
    clawbacks are negative amounts.
    """

    run = models.ForeignKey(
        PayoutRun, verbose_name=_("payout run"), on_delete=models.PROTECT, related_name="lines"
    )
    payee_kind = models.PositiveSmallIntegerField(_("payee kind"), choices=SubjectKind.choices)
    payee_id = models.BigIntegerField(_("payee id"))
    payee_name = models.CharField(_("payee"), max_length=100)
    employee_no = models.CharField(_("employee number"), max_length=32, blank=True)
    unit_code = models.CharField(_("unit code"), max_length=32, blank=True)
    unit_name = models.CharField(_("unit name"), max_length=100, blank=True)
    rule = models.ForeignKey(
        RewardRule,
        verbose_name=_("rule"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="lines",
    )
    rule_name = models.CharField(_("rule"), max_length=100)
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    kind = models.CharField(_("kind"), max_length=12, choices=LineKind.choices, default=LineKind.AWARD)
    amount = models.DecimalField(_("amount (yuan)"), max_digits=14, decimal_places=2, default=Decimal("0.00"))
    non_cash_award = models.CharField(_("title or non-cash award"), max_length=100, blank=True)
    # True on the line that takes a title or non-cash award back, so later runs know it is no
    # longer held (the award text on that line says what was revoked).
    revokes_award = models.BooleanField(_("revokes the award"), default=False, db_default=False)
    comparison_value = models.DecimalField(
        _("value for comparison"),
        max_digits=14,
        decimal_places=2,
        default=Decimal("0.00"),
        help_text=_("What a title or trip is worth when awards that do not stack are compared."),
    )
    figures = models.JSONField(_("figures"), default=dict, blank=True)
    formula = models.TextField(_("formula"), blank=True)
    adjusts = models.ForeignKey(
        "self",
        verbose_name=_("corrects line"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="adjustments",
    )

    class Meta:
        verbose_name = _("payout line")
        verbose_name_plural = _("payout lines")
        ordering = ["run_id", "unit_code", "employee_no", "id"]
        indexes = [
            models.Index(fields=["run", "unit_code"], name="payout_line_run_unit_idx"),
            models.Index(fields=["rule", "payee_kind", "payee_id"], name="payout_line_rule_payee_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.payee_name} {self.rule_name} {self.amount}"

    def save(self, *args, **kwargs):
        self._refuse_unless_draft()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        self._refuse_unless_draft()
        return super().delete(*args, **kwargs)

    def _refuse_unless_draft(self) -> None:
        """Only a draft run's lines change: what was reviewed is what is approved and locked
        (the database refuses the same, migration 0008)."""
        state = PayoutRun.objects.filter(pk=self.run_id).values_list("state", flat=True).first()
        if state is not None and state != RunState.DRAFT:
            raise LockedError(
                _("Payout run #%(id)s is %(state)s: only a draft run's lines can change.")
                % {"id": self.run_id, "state": RunState(state).label}
            )


class ExportState(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class PayoutExport(models.Model):
    """A file made from a payout run by one exporter, with its progress for the progress bar."""

    run = models.ForeignKey(
        PayoutRun, verbose_name=_("payout run"), on_delete=models.CASCADE, related_name="exports"
    )
    exporter = models.CharField(_("export"), max_length=40)
    state = models.CharField(
        _("state"), max_length=10, choices=ExportState.choices, default=ExportState.QUEUED
    )
    rows_done = models.PositiveIntegerField(_("rows written"), default=0)
    rows_total = models.PositiveIntegerField(_("rows to write"), default=0)
    file = models.FileField(_("file"), upload_to="payout-exports/", blank=True)
    error = models.TextField(_("error"), blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    requested_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("payout export")
        verbose_name_plural = _("payout exports")
        ordering = ["-requested_at"]

    def __str__(self) -> str:
        return f"{self.exporter} #{self.run_id} {self.state}"

    @property
    def percent(self) -> int:
        if self.state == ExportState.DONE:
            return 100
        return int(100 * self.rows_done / self.rows_total) if self.rows_total else 0


class BusinessItem(models.Model):
    """One business item behind the daily totals, for rules decided item by item: a deposit (its
    account, kind, deposit date, amount and withdrawal date) or an insurance policy (its number,
    effective date, premium and surrender date).

    Keyed like a fact (subject kind + id: the staff member or unit credited), plus ``kind`` and
    ``item_no`` (unique together: a re-import updates the item). ``end_date`` is the day the item
    left (withdrawn, surrendered): it is not held from that day on. Loaded by
    ``rewards.item_import``; read set-based by ``rewards.item_figures``.
    """

    subject_kind = models.PositiveSmallIntegerField(_("subject kind"), choices=SubjectKind.choices)
    subject_id = models.BigIntegerField(_("subject id"))
    kind = models.CharField(_("kind"), max_length=40, help_text=_("e.g. TIME_1Y, SHORT, CORP, POLICY"))
    item_no = models.CharField(_("item number"), max_length=64, help_text=_("Account or policy number."))
    date = models.DateField(_("date"), help_text=_("Deposit date or policy effective date."))
    end_date = models.DateField(
        _("end date"), null=True, blank=True, help_text=_("Withdrawn or surrendered on (not held from this day).")
    )
    amount = models.DecimalField(_("amount (yuan)"), max_digits=20, decimal_places=2)

    class Meta:
        verbose_name = _("business item")
        verbose_name_plural = _("business items")
        constraints = [models.UniqueConstraint(fields=["kind", "item_no"], name="business_item_once")]
        indexes = [models.Index(fields=["subject_kind", "kind", "date"], name="business_item_kind_date_idx")]

    def __str__(self) -> str:
        return f"{self.kind} {self.item_no}"
