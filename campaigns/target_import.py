"""Importing a campaign's targets (任务) from a file, with the same preview and all-or-nothing
confirmation as every import (``branches.imports``).

Layout: one row per participant (机构号 or 工号) and period; one column per metric, headed by
its code or name (a unit such as "(万元)" scales the values); optional base columns headed
"<metric> 基数" or "<metric> base" (年初基数); an optional period column (期间): empty or
"campaign" for the whole campaign, a phase code, or a month such as 2027-01. Targets of rows
absent from the file are left as they are. Validation of each target is the campaign's own
(``campaigns.validation.validate_target``), so the file and the forms agree; it runs in the
preview already. A column that is neither a key, a metric nor a base is named in the notes
(a misspelt metric would otherwise vanish).

Through django-import-export: the Dataset has one row per target (a wide row gives one per
filled metric cell, each with its row number in the file), checked for the whole file at once.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from branches.imports import values
from branches.imports.errors import ImportFileError, RowError
from branches.imports.headers import Column, cell, locate_header, normalise
from branches.imports.preview import CHANGED, ERROR, NEW, UNCHANGED, entry
from branches.imports.reader import Table
from branches.imports.resources import FileInfo, PlannedResource, dataset
from campaigns.models import Campaign, Metric, Participant, Phase, Target, TargetPeriod
from campaigns.validation import validate_target

UNIT_CODE = Column("unit_code", gettext_lazy("unit code (机构号)"), ("机构号", "机构代码", "机构编码", "网点号", "unit", "unit code"))
EMPLOYEE_NO = Column("employee_no", gettext_lazy("employee number (工号)"), ("工号", "员工号", "员工编号", "employee number", "employee"))
PERIOD = Column("period", gettext_lazy("period (期间)"), ("期间", "考核期", "period"))
_BASE_SUFFIXES = ("基数", "年初基数", "base")
_MONTH = re.compile(r"^(\d{4})[-/.年](\d{1,2})月?$")


@dataclass
class TargetRow:
    row_no: int
    column: str
    participant: Participant
    metric: Metric
    period: str
    phase: Phase | None
    month: datetime.date | None
    target_value: Decimal
    base_value: Decimal | None

    @property
    def period_start(self) -> datetime.date:
        if self.period == TargetPeriod.PHASE:
            return self.phase.start_date
        if self.period == TargetPeriod.MONTH:
            return self.month
        return self.participant.campaign.start_date

    @property
    def key(self) -> tuple:
        return (self.participant.pk, self.metric.pk, self.period, self.period_start)

    @property
    def label(self) -> str:
        period = {TargetPeriod.PHASE: lambda: self.phase.code, TargetPeriod.MONTH: lambda: f"{self.month:%Y-%m}"}.get(
            self.period, lambda: str(_("campaign"))
        )()
        return f"{self.participant.code} · {self.metric.name} · {period}"


def _campaign(options: dict) -> Campaign:
    campaign = Campaign.objects.filter(pk=(options or {}).get("campaign_id")).first()
    if campaign is None:
        raise ImportFileError(_("Choose the campaign the targets belong to."))
    return campaign


def _metric_columns(campaign: Campaign):
    """Normalised metric code/name → metric, and the same with a base suffix → metric."""
    targets, bases = {}, {}
    for metric in Metric.objects.filter(campaign=campaign):
        for word in (metric.code, metric.name, metric.name_en):
            if not word:
                continue
            targets.setdefault(normalise(word)[0], metric)
            for suffix in _BASE_SUFFIXES:
                bases.setdefault(normalise(f"{word}{suffix}")[0], metric)
    return targets, bases


TARGET_FIELDS = (
    "row_no", "unit_code", "employee_no", "period", "metric", "target_column", "target", "base_column", "base",
)


def build_dataset(table: Table, options: dict):
    """One Dataset row per target cell (or one per row without any, for its key's errors)."""
    campaign = _campaign(options)
    target_words, base_words = _metric_columns(campaign)
    combined = {**{w: ("target", m) for w, m in target_words.items()}, **{w: ("base", m) for w, m in base_words.items()}}

    def missing(index_of, metric_columns):
        absent = []
        if "unit_code" not in index_of and "employee_no" not in index_of:
            absent.append(f"{UNIT_CODE.label} / {EMPLOYEE_NO.label}")
        if not any(role == "target" for (role, _m), _s in metric_columns.values()):
            absent.append(_("a metric column (its code or name)"))
        return absent

    header = locate_header(table, (UNIT_CODE, EMPLOYEE_NO, PERIOD), indicators=combined, missing=missing)
    index_of = header.index_of
    base_index = {m.pk: i for i, ((role, m), _s) in header.indicator_columns.items() if role == "base"}
    metric_columns = [
        (index, metric, base_index.get(metric.pk))
        for index, ((role, metric), _scale) in header.indicator_columns.items()
        if role == "target"
    ]
    rows = []
    for row_no, cells in table.rows:
        if row_no <= header.header_row_no:
            continue
        key = (row_no, cell(cells, index_of.get("unit_code")), cell(cells, index_of.get("employee_no")), cell(cells, index_of.get("period")))
        filled = 0
        for index, metric, base in metric_columns:
            raw = cell(cells, index)
            if values.is_empty(raw):
                continue
            filled += 1
            base_label = header.label(base) if base is not None else None
            rows.append((*key, metric.code, header.label(index), raw, base_label, cell(cells, base)))
        if not filled:
            rows.append((*key, None, None, None, None, None))
    notes = [_("Campaign: %(campaign)s") % {"campaign": campaign}]
    ignored = [name for name in header.ignored if name.strip()]
    if ignored:
        notes.append(
            _("Columns not imported (neither a metric of this campaign nor a base): %(columns)s. The metrics are: %(metrics)s.")
            % {"columns": ", ".join(ignored), "metrics": ", ".join(sorted({m.code for m in target_words.values()}))}
        )
    info = FileInfo.of(table, header, (UNIT_CODE, EMPLOYEE_NO, PERIOD), notes)
    return dataset(TARGET_FIELDS, rows), info


class TargetPlan:
    """Every target's fate, and the targets ``write`` inserts or updates."""

    def __init__(self, data, campaign: Campaign, labels: dict[str, str]):
        participants = Participant.objects.filter(campaign=campaign).select_related("unit", "staff", "campaign")
        by_unit = {p.unit.code: p for p in participants if p.unit_id}
        by_staff = {p.staff.employee_no: p for p in participants if p.staff_id}
        phases = {phase.code: phase for phase in Phase.objects.filter(campaign=campaign)}
        metrics = {metric.code: metric for metric in Metric.objects.filter(campaign=campaign)}
        existing = {(t.participant_id, t.metric_id, t.period, t.period_start): t for t in Target.objects.filter(campaign=campaign)}
        self.campaign = campaign
        self.entries: list[tuple] = []
        self.new: list[Target] = []
        self.changed: list[Target] = []
        seen: dict[tuple, TargetRow] = {}
        for row_no, unit_code, employee_no, raw_period, metric_code, column, raw_target, base_column, raw_base in data:
            problems = []
            participant = _participant(unit_code, employee_no, labels, by_unit, by_staff, row_no, problems)
            period, phase, month = _period(raw_period, phases, campaign, labels["period"], row_no, problems)
            if metric_code is None:
                # A row without any target: only its key can be wrong.
                key = participant.code if participant else _("row %(row)s") % {"row": row_no}
                fate = ERROR if problems else UNCHANGED
                self.entries.append(entry(row_no, fate, key, new="" if problems else _("no target in this row"), errors=problems))
                continue
            target = _number(raw_target, normalise(column)[1], column, row_no, problems)
            base = None
            if not values.is_empty(raw_base):
                base = _number(raw_base, normalise(base_column)[1], base_column, row_no, problems)
            if problems or participant is None or target is None or period is None:
                self.entries.append(entry(row_no, ERROR, _("row %(row)s") % {"row": row_no}, errors=problems))
                continue
            row = TargetRow(row_no, column, participant, metrics[metric_code], period, phase, month, target, base)
            self.entries.append(self._fate(row, campaign, existing, seen, labels))

    def _fate(self, row: TargetRow, campaign, existing, seen, labels) -> tuple:
        if row.key in seen:
            first = seen[row.key]
            if (first.target_value, first.base_value) != (row.target_value, row.base_value):
                message = _("this target is also in row %(row)s with another value") % {"row": first.row_no}
                return entry(row.row_no, ERROR, row.label, errors=[RowError(row.row_no, row.column, message)])
            return entry(row.row_no, UNCHANGED, row.label, new=_("as in row %(row)s") % {"row": first.row_no})
        seen[row.key] = row
        old = existing.get(row.key)
        new_text = _target_text(row.target_value, row.base_value)
        if old is not None and (old.target_value, old.base_value) == (
            row.target_value, row.base_value if row.base_value is not None else old.base_value
        ):
            return entry(row.row_no, UNCHANGED, row.label, old=new_text, new=new_text)
        target = old or Target(
            campaign=campaign, participant=row.participant, metric=row.metric, period=row.period, phase=row.phase, month=row.month
        )
        old_text = _target_text(old.target_value, old.base_value) if old is not None else ""
        target.target_value = row.target_value
        if row.base_value is not None:
            target.base_value = row.base_value
        try:
            validate_target(target)
        except ValidationError as error:
            return entry(row.row_no, ERROR, row.label, errors=[
                RowError(row.row_no, labels["period"] if name in ("phase", "month") else row.column, message)
                for name, messages in error.message_dict.items() for message in messages
            ])
        target.period_start = target.compute_period_start()
        if old is None:
            self.new.append(target)
            return entry(row.row_no, NEW, row.label, new=new_text)
        self.changed.append(target)
        return entry(row.row_no, CHANGED, row.label, old=old_text, new=new_text)

    def entry_at(self, index: int) -> tuple:
        return self.entries[index]


def _participant(unit_code, employee_no, labels, by_unit, by_staff, row_no, problems):
    number = values.parse_code(employee_no)
    if number:
        if number not in by_staff:
            problems.append(RowError(row_no, labels["employee_no"], _("%(no)s is not a participant of this campaign") % {"no": number}))
        return by_staff.get(number)
    code = values.parse_code(unit_code)
    if not code:
        problems.append(RowError(row_no, labels["unit_code"], _("neither a unit code nor an employee number is given")))
        return None
    if code not in by_unit:
        problems.append(RowError(row_no, labels["unit_code"], _("%(code)s is not a participant of this campaign") % {"code": code}))
    return by_unit.get(code)


def _period(raw, phases, campaign, column, row_no, problems):
    text = values.parse_text(raw)
    if not text or text.lower() in ("campaign", "全程", "活动期", "季度"):
        return TargetPeriod.CAMPAIGN, None, None
    if text in phases:
        return TargetPeriod.PHASE, phases[text], None
    match = _MONTH.match(text)
    if match:
        try:
            month = datetime.date(int(match.group(1)), int(match.group(2)), 1)
        except ValueError:
            month = None
        if month and campaign.start_date.replace(day=1) <= month <= campaign.end_date:
            return TargetPeriod.MONTH, None, month
    problems.append(RowError(row_no, column, _("“%(value)s” is neither a phase of this campaign nor a month inside it") % {"value": text}))
    return None, None, None


def _number(raw, scale, column, row_no, problems):
    try:
        number = values.parse_decimal(raw) * scale
    except ValueError as error:
        problems.append(RowError(row_no, column, str(error)))
        return None
    if number < 0:
        problems.append(RowError(row_no, column, _("a target cannot be negative (%(value)s)") % {"value": number}))
        return None
    if number != number.quantize(Decimal("0.0001")):
        problems.append(RowError(row_no, column, _("%(value)s has more than 4 decimal places") % {"value": raw}))
        return None
    return number


def _target_text(target, base) -> str:
    text = f"{target.normalize():f}"
    return text if base is None else f"{text} ({_('base')} {base.normalize():f})"


class TargetResource(PlannedResource):
    """Targets through django-import-export: planned for the whole file, written in bulk."""

    kind = "targets"
    columns = TARGET_FIELDS

    def make_plan(self, dataset) -> TargetPlan:
        return TargetPlan(dataset, _campaign(self.options), self.info.labels)

    def write(self, plan: TargetPlan) -> None:
        from scoring.services import queue_recomputes_for_changed_targets

        Target.objects.bulk_create(plan.new, batch_size=2000)
        Target.objects.bulk_update(plan.changed, ["target_value", "base_value"], batch_size=2000)
        queue_recomputes_for_changed_targets(plan.campaign, [*plan.new, *plan.changed])


RESOURCE = TargetResource
