"""The organisation: units in a tree, staff with their unit history, and users' roles and scope.

Subtrees are read through a materialised path of unit codes (``/HO/R01/B001/``) so that "every
unit under X" is one indexed prefix query, whatever the depth, at 50,000 units.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

UNIT_CODE_VALIDATOR = RegexValidator(
    r"^[A-Za-z0-9_.\-]+$",
    _("A unit code may hold only letters, digits, '.', '_' and '-'."),
)
PATH_SEPARATOR = "/"


class UnitKind(models.TextChoices):
    HEAD_OFFICE = "head_office", _("Head office (总行/联社)")
    REGION = "region", _("Region or war zone (片区/战区)")
    BRANCH = "branch", _("Branch (支行/信用社)")
    OUTLET = "outlet", _("Outlet (网点/储蓄所)")
    DEPARTMENT = "department", _("Department (部门)")


class Unit(models.Model):
    code = models.CharField(_("unit code"), max_length=32, unique=True, validators=[UNIT_CODE_VALIDATOR])
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=UnitKind.choices)
    category = models.CharField(
        _("category"),
        max_length=50,
        blank=True,
        help_text=_("A grouping campaigns can rank by, e.g. 直管机构 or 储蓄所."),
    )
    parent = models.ForeignKey(
        "self", verbose_name=_("parent unit"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    path = models.CharField(_("path"), max_length=1000, editable=False, db_index=False)
    depth = models.PositiveSmallIntegerField(_("depth"), editable=False, default=0)
    active_from = models.DateField(_("active from"), default=datetime.date(2000, 1, 1))
    active_to = models.DateField(_("active to"), null=True, blank=True)
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("merged into"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_units",
    )

    class Meta:
        verbose_name = _("unit")
        verbose_name_plural = _("units")
        ordering = ["path"]
        indexes = [
            # varchar_pattern_ops lets PostgreSQL use the index for ``path LIKE '/HO/R01/%'``
            # whatever the database collation; other databases ignore the operator class.
            models.Index(fields=["path"], name="unit_path_prefix_idx", opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["kind", "category"], name="unit_kind_category_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(active_to__isnull=True) | Q(active_to__gte=models.F("active_from")),
                name="unit_active_dates_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def save(self, *args, **kwargs):
        self.path = self.compute_path()
        self.depth = self.path.count(PATH_SEPARATOR) - 2
        super().save(*args, **kwargs)

    def compute_path(self) -> str:
        prefix = self.parent.path if self.parent_id else PATH_SEPARATOR
        return f"{prefix}{self.code}{PATH_SEPARATOR}"

    def is_active_on(self, day: datetime.date) -> bool:
        return self.active_from <= day and (self.active_to is None or self.active_to >= day)

    def is_in_subtree_of(self, other: Unit) -> bool:
        return self.path.startswith(other.path)


class Position(models.TextChoices):
    HEAD = "head", _("Head (负责人)")
    DEPUTY = "deputy", _("Deputy (副职)")
    MIDDLE_MANAGER = "middle_manager", _("Middle manager (中层)")
    ACCOUNT_MANAGER = "account_manager", _("Account manager (客户经理)")
    TELLER = "teller", _("Teller (柜员)")
    AGENT = "agent", _("Agent (营销员)")
    SUPERVISOR = "supervisor", _("Supervisor (主管)")
    ADMINISTRATIVE = "administrative", _("Administrative staff (综合岗)")
    STAFF = "staff", _("Staff (员工)")


class Staff(models.Model):
    employee_no = models.CharField(_("employee number"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=50)
    unit = models.ForeignKey(Unit, verbose_name=_("current unit"), on_delete=models.PROTECT, related_name="staff")
    position = models.CharField(_("position"), max_length=20, choices=Position.choices, default=Position.STAFF)
    active_from = models.DateField(_("active from"), default=datetime.date(2000, 1, 1))
    active_to = models.DateField(_("active to"), null=True, blank=True)
    attributes = models.JSONField(
        _("attributes"),
        default=dict,
        blank=True,
        help_text=_("Facts about the person campaigns may filter on, e.g. {\"seconded\": true}."),
    )

    class Meta:
        verbose_name = _("staff member")
        verbose_name_plural = _("staff")
        ordering = ["employee_no"]

    def __str__(self) -> str:
        return f"{self.employee_no} {self.name}"


class StaffAssignment(models.Model):
    """Which unit a staff member belonged to, and in which position, over a date range.

    Figures a staff member made before a move stay with the unit of that time: attribution
    reads this table by date, never the staff member's current unit.
    """

    staff = models.ForeignKey(Staff, verbose_name=_("staff member"), on_delete=models.CASCADE, related_name="assignments")
    unit = models.ForeignKey(Unit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="assignments")
    position = models.CharField(_("position"), max_length=20, choices=Position.choices)
    valid_from = models.DateField(_("from"))
    valid_to = models.DateField(_("to"), null=True, blank=True, help_text=_("Empty while current."))

    class Meta:
        verbose_name = _("staff assignment")
        verbose_name_plural = _("staff assignments")
        ordering = ["staff_id", "valid_from"]
        constraints = [
            models.UniqueConstraint(fields=["staff", "valid_from"], name="assignment_one_start_per_day"),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                name="assignment_dates_ordered",
            ),
        ]
        indexes = [models.Index(fields=["unit", "valid_from"], name="assignment_unit_from_idx")]

    def __str__(self) -> str:
        return f"{self.staff_id}@{self.unit_id} {self.valid_from}–{self.valid_to or ''}"


class UserProfile(models.Model):
    """Links a login to a staff member and, for managers, the unit whose subtree they may see."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    staff = models.OneToOneField(
        Staff, verbose_name=_("staff member"), null=True, blank=True, on_delete=models.SET_NULL, related_name="profile"
    )
    scope_unit = models.ForeignKey(
        Unit,
        verbose_name=_("scope unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        help_text=_("A branch manager sees this unit and everything under it; empty: the staff member's unit."),
    )

    class Meta:
        verbose_name = _("user profile")
        verbose_name_plural = _("user profiles")

    def __str__(self) -> str:
        return f"{self.user}"


class Measure(models.TextChoices):
    AMOUNT = "amount", _("Amount in yuan")
    COUNT = "count", _("Count")
    RATE = "rate", _("Rate (fraction, 0.97 = 97 %)")


class IndicatorKind(models.TextChoices):
    BALANCE = "balance", _("Balance at end of day (余额)")
    FLOW = "flow", _("Flow during the day (发生额)")
    COUNT = "count", _("Count during the day (笔数/台数)")
    RATE = "rate", _("Rate as delivered (比率)")
    DELIVERED_AGGREGATE = "delivered_aggregate", _("Already aggregated by the data warehouse (e.g. 日均)")


class Indicator(models.Model):
    """A business figure the bank measures (指标库): deposit balance, POS placed, premiums …

    Indicators belong to the bank, not to a campaign: every campaign running at the time reads the
    same facts. A campaign's metric says which figure of an indicator it scores (increase over a
    base, daily average …).
    """

    code = models.CharField(_("indicator code"), max_length=40, unique=True, validators=[UNIT_CODE_VALIDATOR])
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)
    measure = models.CharField(_("measure"), max_length=10, choices=Measure.choices, default=Measure.AMOUNT)
    kind = models.CharField(_("kind"), max_length=20, choices=IndicatorKind.choices, default=IndicatorKind.BALANCE)
    unit_label = models.CharField(_("display unit"), max_length=10, blank=True, help_text=_("e.g. 万元, 台, 笔, %"))

    class Meta:
        verbose_name = _("indicator")
        verbose_name_plural = _("indicators")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class SubjectKind(models.IntegerChoices):
    UNIT = 1, _("Unit")
    STAFF = 2, _("Staff member")


class ImportBatch(models.Model):
    """One write of figures: a file, an API batch, a manual edit or a system load.

    Every fact version points at the batch that wrote it, so "who, when, from where" is one join.
    A rejected or previewed batch is kept too (with its error count), so the data team can see
    what was refused and why.
    """

    class Kind(models.TextChoices):
        FILE = "file", _("File (文件导入)")
        API = "api", _("API batch (接口批次)")
        MANUAL = "manual", _("Manual edit (手工修改)")
        SYSTEM = "system", _("System load (系统加载)")

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        MERGED = "merged", _("Merged (已入库)")
        REJECTED = "rejected", _("Rejected: errors, nothing written (有错误，未写入)")
        PREVIEW = "preview", _("Preview only (预览)")
        FAILED = "failed", _("Failed")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    reference = models.CharField(
        _("reference"), max_length=255, blank=True, help_text=_("File name, client batch id or a short note.")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor = models.CharField(
        _("actor"), max_length=150, blank=True, help_text=_("User name, API token name or system account.")
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField(_("started at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    row_count = models.BigIntegerField(_("rows"), default=0)
    new_count = models.BigIntegerField(_("new figures"), default=0)
    changed_count = models.BigIntegerField(_("changed figures"), default=0)
    unchanged_count = models.BigIntegerField(_("unchanged figures"), default=0)
    error_count = models.BigIntegerField(_("errors"), default=0)
    error_file = models.CharField(
        _("error file"), max_length=500, blank=True, help_text=_("CSV of every error, relative to the var directory.")
    )

    class Meta:
        verbose_name = _("import batch")
        verbose_name_plural = _("import batches")
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["kind", "reference"], name="importbatch_kind_ref_idx")]

    def __str__(self) -> str:
        return f"{self.kind}:{self.reference} ({self.status})"


class Fact(models.Model):
    """The current value of one indicator for one unit or staff member on one business date.

    ``subject_id`` is a Unit id when ``subject_kind`` is UNIT and a Staff id when STAFF: one key
    pair lets the scoring SQL join facts to participants of either level with a single equality.

    This row is the *current* version: its value, the batch and row that wrote it and the value it
    replaced. Superseded versions move to FactVersion, so a first import writes each figure once
    and a re-import of the same figures writes nothing. Write only through ``branches.facts``.

    On PostgreSQL the table is partitioned by ``business_date``, one partition per day
    (``branches.fact_partitions``, migration 0005); ``id`` comes from a sequence but has no index.
    """

    # No index of its own (the unique key covers it) and no database constraint: a deferred RI
    # check per row would cost the bulk path more than the insert itself. branches.facts checks
    # indicators set-based before writing; Django's PROTECT keeps an indicator with facts.
    indicator = models.ForeignKey(
        Indicator, verbose_name=_("indicator"), on_delete=models.PROTECT, db_index=False, db_constraint=False
    )
    subject_kind = models.PositiveSmallIntegerField(_("subject kind"), choices=SubjectKind.choices)
    subject_id = models.BigIntegerField(_("subject id"))
    business_date = models.DateField(_("business date"))
    value = models.DecimalField(_("value"), max_digits=20, decimal_places=4)
    version_no = models.PositiveIntegerField(_("version"), default=1)
    previous_value = models.DecimalField(
        _("previous value"), max_digits=20, decimal_places=4, null=True, blank=True,
        help_text=_("The value this version replaced; empty for the first version."),
    )
    # No database constraint and no index: the bulk path inserts millions of rows and a per-row
    # RI trigger or index entry would cost it dearly; batches are never deleted (PROTECT in Django).
    batch = models.ForeignKey(
        ImportBatch, verbose_name=_("source batch"), null=True, blank=True, on_delete=models.PROTECT,
        db_constraint=False, db_index=False, related_name="+",
    )
    source_row = models.BigIntegerField(_("source row"), null=True, blank=True)

    class Meta:
        verbose_name = _("fact")
        verbose_name_plural = _("facts")
        # ONE index, date first: a day's load appends at the right edge of the index instead of
        # touching a leaf page per row, and the scoring SQL reads (date, indicator) ranges from it.
        # One subject's history reads it with a list of dates (see branches.fact_selectors.fact_history).
        constraints = [
            models.UniqueConstraint(
                fields=["business_date", "indicator", "subject_kind", "subject_id"], name="fact_one_value_per_key"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.indicator_id}/{self.subject_kind}:{self.subject_id}@{self.business_date}={self.value}"


class FactVersion(models.Model):
    """A superseded version of a fact (append-only): its value, who wrote it, and what it replaced.

    The current version is the Fact row itself; ``fact_history`` returns both, newest first.
    """

    # No database constraint: on PostgreSQL facts are partitioned by date, and a partitioned
    # table's unique keys must hold the date, so ``id`` alone cannot be referenced.
    fact = models.ForeignKey(
        Fact, verbose_name=_("fact"), on_delete=models.CASCADE, related_name="versions", db_constraint=False
    )
    version_no = models.PositiveIntegerField(_("version"))
    value = models.DecimalField(_("value"), max_digits=20, decimal_places=4)
    previous_value = models.DecimalField(_("previous value"), max_digits=20, decimal_places=4, null=True, blank=True)
    batch = models.ForeignKey(
        ImportBatch, verbose_name=_("source batch"), null=True, blank=True, on_delete=models.PROTECT,
        db_constraint=False, related_name="+",
    )
    source_row = models.BigIntegerField(_("source row"), null=True, blank=True)
    superseded_by = models.ForeignKey(
        ImportBatch, verbose_name=_("superseded by"), null=True, blank=True, on_delete=models.PROTECT,
        db_constraint=False, related_name="+",
    )

    class Meta:
        verbose_name = _("fact version")
        verbose_name_plural = _("fact versions")
        constraints = [models.UniqueConstraint(fields=["fact", "version_no"], name="factversion_once_per_number")]

    def __str__(self) -> str:
        return f"{self.fact_id} v{self.version_no}={self.value}"

from branches.api_models import ApiClient, ApiFigureBatch  # noqa: E402,F401  (REST API accounts; see that module)
