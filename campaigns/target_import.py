"""Importing a campaign's targets (任务) from a file, with the same preview and all-or-nothing
confirmation as every import (``branches.imports``).

Layout: one row per participant (机构号 or 工号) and period; one column per metric, headed by
its code or name (a unit such as "(万元)" scales the values); optional base columns headed
"<metric> 基数" or "<metric> base" (年初基数); an optional period column (期间): empty or
"campaign" for the whole campaign, a phase code, or a month such as 2027-01. Targets of rows
absent from the file are left as they are. Validation of each target is the campaign's own
(``campaigns.validation.validate_target``), so the file and the forms agree.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from branches.imports import values
from branches.imports.errors import ImportFileError, RowError
from branches.imports.headers import Column, cell, locate_header, normalise
from branches.imports.org import ImportAborted
from branches.imports.preview import CHANGED, ERROR, NEW, UNCHANGED, ImportResult, Preview, RowFate
from branches.imports.reader import Table
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


def _parse(table: Table, campaign: Campaign):
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
    participants = Participant.objects.filter(campaign=campaign).select_related("unit", "staff", "campaign")
    by_unit = {p.unit.code: p for p in participants if p.unit_id}
    by_staff = {p.staff.employee_no: p for p in participants if p.staff_id}
    phases = {phase.code: phase for phase in Phase.objects.filter(campaign=campaign)}
    base_index = {m.pk: i for i, ((role, m), _s) in header.indicator_columns.items() if role == "base"}
    rows, errors = [], {}
    for row_no, cells in table.rows:
        if row_no <= header.header_row_no:
            continue
        problems = []
        participant = _participant(cells, header, by_unit, by_staff, row_no, problems)
        period, phase, month = _period(cell(cells, header.index_of.get("period")), phases, campaign, header, row_no, problems)
        for index, ((role, metric), scale) in header.indicator_columns.items():
            if role != "target":
                continue
            raw = cell(cells, index)
            if values.is_empty(raw):
                continue
            target = _number(raw, scale, header.label(index), row_no, problems)
            base = None
            if metric.pk in base_index:
                raw_base = cell(cells, base_index[metric.pk])
                if not values.is_empty(raw_base):
                    base = _number(raw_base, header.indicator_columns[base_index[metric.pk]][1], header.label(base_index[metric.pk]), row_no, problems)
            if participant is None or target is None or period is None:
                continue
            rows.append(TargetRow(row_no, header.label(index), participant, metric, period, phase, month, target, base))
        if problems:
            errors[row_no] = problems
    return header, rows, errors


def _participant(cells, header, by_unit, by_staff, row_no, problems):
    number = values.parse_code(cell(cells, header.index_of.get("employee_no")))
    if number:
        if number not in by_staff:
            problems.append(RowError(row_no, header.label(header.index_of["employee_no"]), _("%(no)s is not a participant of this campaign") % {"no": number}))
        return by_staff.get(number)
    code = values.parse_code(cell(cells, header.index_of.get("unit_code")))
    column = header.label(header.index_of["unit_code"]) if "unit_code" in header.index_of else str(UNIT_CODE.label)
    if not code:
        problems.append(RowError(row_no, column, _("neither a unit code nor an employee number is given")))
        return None
    if code not in by_unit:
        problems.append(RowError(row_no, column, _("%(code)s is not a participant of this campaign") % {"code": code}))
    return by_unit.get(code)


def _period(raw, phases, campaign, header, row_no, problems):
    text = values.parse_text(raw)
    column = header.label(header.index_of["period"]) if "period" in header.index_of else str(PERIOD.label)
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


def _plan(table: Table, options: dict):
    campaign = _campaign(options)
    header, rows, errors = _parse(table, campaign)
    existing = {
        (t.participant_id, t.metric_id, t.period, t.period_start): t
        for t in Target.objects.filter(campaign=campaign)
    }
    seen: dict[tuple, TargetRow] = {}
    fates = [RowFate(row_no, ERROR, _("row %(row)s") % {"row": row_no}, errors=problems) for row_no, problems in errors.items()]
    writes = []
    for row in rows:
        if row.key in seen:
            first = seen[row.key]
            if (first.target_value, first.base_value) != (row.target_value, row.base_value):
                fates.append(
                    RowFate(row.row_no, ERROR, row.label, errors=[RowError(row.row_no, row.column, _("this target is also in row %(row)s with another value") % {"row": first.row_no})])
                )
            continue
        seen[row.key] = row
        old = existing.get(row.key)
        new_text = _target_text(row.target_value, row.base_value)
        if old is None:
            fates.append(RowFate(row.row_no, NEW, row.label, new=new_text))
            writes.append((row, None))
        elif (old.target_value, old.base_value) != (row.target_value, row.base_value if row.base_value is not None else old.base_value):
            fates.append(RowFate(row.row_no, CHANGED, row.label, old=_target_text(old.target_value, old.base_value), new=new_text))
            writes.append((row, old))
        else:
            fates.append(RowFate(row.row_no, UNCHANGED, row.label, old=new_text, new=new_text))
    fates.sort(key=lambda fate: fate.row_no)
    return campaign, header, fates, writes


def _target_text(target, base) -> str:
    text = f"{target.normalize():f}"
    return text if base is None else f"{text} ({_('base')} {base.normalize():f})"


def preview_targets(table: Table, *, filename: str = "", options: dict | None = None) -> Preview:
    """Every target's fate (new, changed old → new, unchanged) and every row's errors. Never writes."""
    campaign, header, fates, _writes = _plan(table, options or {})
    return Preview(
        kind="targets", filename=filename, file_format=table.file_format, encoding=table.encoding,
        header_row_no=header.header_row_no, fates=fates,
        notes=list(table.notes) + [_("Campaign: %(campaign)s") % {"campaign": campaign}],
    )


@transaction.atomic
def apply_targets(table: Table, *, filename: str = "", options: dict | None = None, user=None) -> ImportResult:
    """Validate again and write every new or changed target in one transaction, or none."""
    campaign, header, fates, writes = _plan(table, options or {})
    preview = Preview(kind="targets", filename=filename, fates=fates)
    if not preview.ok:
        raise ImportAborted(preview)
    new, changed = [], []
    for row, old in writes:
        target = old or Target(campaign=campaign, participant=row.participant, metric=row.metric, period=row.period, phase=row.phase, month=row.month)
        target.target_value = row.target_value
        if row.base_value is not None:
            target.base_value = row.base_value
        try:
            validate_target(target)
        except ValidationError as error:
            preview.fates = [RowFate(row.row_no, ERROR, row.label, errors=[RowError(row.row_no, row.column, " ".join(error.messages))])]
            raise ImportAborted(preview) from None
        target.period_start = target.compute_period_start()
        (changed if old else new).append(target)
    Target.objects.bulk_create(new, batch_size=2000)
    Target.objects.bulk_update(changed, ["target_value", "base_value"], batch_size=2000)
    unchanged = sum(1 for fate in fates if fate.fate == UNCHANGED)
    return ImportResult(kind="targets", new=len(new), changed=len(changed), unchanged=unchanged)

