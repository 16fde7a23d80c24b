"""Reading the files of a target decomposition (任务分解): the units' targets to split, and the
weights to split them by. See ``campaigns.decomposition_import`` for what is done with them.

The targets file: one row per unit (机构号) and period (optional 期间: empty for the whole
campaign, a phase code, or a month such as 2027-01); one column per metric of the campaign,
headed by its code or name ("(万元)" scales the values); an optional 尾差承担 column naming who
takes the rounding remainder. The weights: a file of 机构号 or 工号 with a 权重 column (for every
metric) and/or one column per metric, or pasted "code weight" lines (two columns from Excel).
Problems go to ``plan.errors`` naming the row and the column; unread columns to ``plan.notes``.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from branches.imports import values
from branches.imports.errors import RowError
from branches.imports.headers import Column, cell, locate_header, normalise
from branches.imports.reader import Table, read_table
from branches.models import Measure
from campaigns.models import Metric, Phase, TargetPeriod

if TYPE_CHECKING:
    from campaigns.decomposition_import import DecompositionPlan

UNIT_CODE = Column("unit_code", gettext_lazy("unit code (机构号)"), ("机构号", "机构代码", "机构编码", "unit", "unit code"))
PERIOD = Column("period", gettext_lazy("period (期间)"), ("期间", "考核期", "period"))
REMAINDER = Column(
    "remainder_to", gettext_lazy("rounding remainder to (尾差承担)"), ("尾差承担", "尾差", "remainder", "remainder to")
)
WEIGHT_CODE = Column(
    "code",
    gettext_lazy("unit code or employee number (机构号/工号)"),
    ("机构号", "工号", "机构代码", "员工号", "unit code", "employee number", "employee no", "code"),
)
WEIGHT = Column("weight", gettext_lazy("weight (权重)"), ("权重", "weight", "比例", "系数", "占比"))
_CAMPAIGN_WORDS = ("campaign", "全程", "活动期", "季度")
_MONTH = re.compile(r"^(\d{4})[-/.年](\d{1,2})月?$")


@dataclass
class TargetRow:
    """One unit's targets to split, for one period: (metric, total, column as headed) each."""

    row_no: int
    unit_code: str
    unit_column: str
    period: str | None
    phase: Phase | None
    month: datetime.date | None
    remainder_to: str
    remainder_column: str
    totals: list[tuple[Metric, Decimal, str]]  # metric, total, column as headed


def metric_lookup(metrics) -> dict[str, Metric]:
    lookup = {}
    for metric in metrics:
        for word in (metric.code, metric.name, metric.name_en):
            if word:
                lookup.setdefault(normalise(word)[0], metric)
    return lookup


def read_targets(table: Table, metrics, campaign, plan: DecompositionPlan) -> list[TargetRow]:
    def missing(index_of, metric_columns):
        absent = [] if "unit_code" in index_of else [str(UNIT_CODE.label)]
        if not metric_columns:
            absent.append(_("a metric column (its code or name)"))
        return absent

    header = locate_header(table, (UNIT_CODE, PERIOD, REMAINDER), indicators=metric_lookup(metrics), missing=missing)
    plan.header_row_no = header.header_row_no
    plan.notes += list(table.notes)
    if header.ignored:
        plan.notes.append(_("Columns not read: %(columns)s") % {"columns": ", ".join(header.ignored)})
    phases = {phase.code: phase for phase in Phase.objects.filter(campaign=campaign)}
    unit_column = header.label(header.index_of["unit_code"])
    remainder_column = header.label(header.index_of["remainder_to"]) if "remainder_to" in header.index_of else ""
    rows = []
    for row_no, cells in table.rows:
        if row_no <= header.header_row_no:
            continue
        before = len(plan.errors)
        code = values.parse_code(cell(cells, header.index_of["unit_code"]))
        if not code:
            plan.errors.append(RowError(row_no, unit_column, _("the unit code is empty")))
        period, phase, month = _period(cell(cells, header.index_of.get("period")), phases, campaign, header, row_no, plan)
        totals = []
        for index, (metric, scale) in header.indicator_columns.items():
            raw = cell(cells, index)
            if values.is_empty(raw):
                continue
            total = _total(raw, scale, metric, header.label(index), row_no, plan)
            if total is not None:
                totals.append((metric, total, header.label(index)))
        if len(plan.errors) > before or not totals:
            continue
        remainder_to = values.parse_code(cell(cells, header.index_of.get("remainder_to")))
        rows.append(TargetRow(row_no, code, unit_column, period, phase, month, remainder_to, remainder_column, totals))
    return rows


def _period(raw, phases, campaign, header, row_no, plan):
    text = values.parse_text(raw)
    if not text or text.lower() in _CAMPAIGN_WORDS:
        return TargetPeriod.CAMPAIGN, None, None
    if text in phases:
        return TargetPeriod.PHASE, phases[text], None
    match = _MONTH.match(text)
    try:
        month = datetime.date(int(match.group(1)), int(match.group(2)), 1) if match else None
    except ValueError:
        month = None
    if month and campaign.start_date.replace(day=1) <= month <= campaign.end_date:
        return TargetPeriod.MONTH, None, month
    plan.errors.append(
        RowError(
            row_no, header.label(header.index_of["period"]),
            _("“%(value)s” is neither a phase of this campaign nor a month inside it") % {"value": text},
        )
    )
    return None, None, None


def _total(raw, scale, metric, column, row_no, plan) -> Decimal | None:
    if metric.measure == Measure.RATE:
        plan.errors.append(
            RowError(row_no, column, _("%(metric)s is a rate: rates do not add up, so they are not split; set them with the target import") % {"metric": metric.name})
        )
        return None
    try:
        total = values.parse_decimal(raw) * scale
    except ValueError as error:
        plan.errors.append(RowError(row_no, column, str(error)))
        return None
    if total < 0:
        plan.errors.append(RowError(row_no, column, _("a target cannot be negative (%(value)s)") % {"value": total}))
        return None
    if total != total.quantize(Decimal("0.0001")):
        plan.errors.append(RowError(row_no, column, _("%(value)s has more than 4 decimal places") % {"value": raw}))
        return None
    return total


@dataclass
class Weights:
    """Weights by participant code, for every metric or (a file's metric columns) for one."""

    general: dict[str, Decimal] = field(default_factory=dict)
    per_metric: dict[tuple[str, int], Decimal] = field(default_factory=dict)

    def of(self, code: str, metric: Metric) -> Decimal | None:
        return self.per_metric.get((code, metric.pk), self.general.get(code))

    @property
    def codes(self) -> set[str]:
        return set(self.general) | {code for code, _metric in self.per_metric}


def read_weights(path, filename, text, metrics, plan) -> Weights:
    weights = Weights()
    if path is not None:
        table = read_table(path, filename=filename)

        def missing(index_of, metric_columns):
            absent = [] if "code" in index_of else [str(WEIGHT_CODE.label)]
            if "weight" not in index_of and not metric_columns:
                absent.append(str(WEIGHT.label))
            return absent

        header = locate_header(table, (WEIGHT_CODE, WEIGHT), indicators=metric_lookup(metrics), missing=missing)
        where = _("Weights file %(name)s") % {"name": filename}
        for row_no, cells in table.rows:
            if row_no <= header.header_row_no:
                continue
            code = values.parse_code(cell(cells, header.index_of["code"]))
            if not code:
                continue
            columns = [(header.index_of["weight"], None)] if "weight" in header.index_of else []
            columns += [(index, metric) for index, (metric, _scale) in header.indicator_columns.items()]
            for index, metric in columns:
                raw = cell(cells, index)
                if values.is_empty(raw):
                    continue
                weight = _weight(raw, f"{where}, {header.label(index)}", row_no, plan)
                if weight is None:
                    continue
                if metric is None:
                    weights.general[code] = weight
                else:
                    weights.per_metric[(code, metric.pk)] = weight
        return weights
    for line_no, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.replace(",", " ").replace("\t", " ").split()
        try:
            code, weight = parts[0], Decimal(parts[1])
            if not weight.is_finite() or len(parts) > 2:
                raise InvalidOperation
        except (IndexError, InvalidOperation):
            plan.errors.append(RowError(line_no, str(_("weights")), _("write a code and a number, e.g. “B1 3”")))
            continue
        if weight < 0:
            plan.errors.append(RowError(line_no, str(_("weights")), _("a weight cannot be negative (%(value)s)") % {"value": weight}))
            continue
        weights.general[code] = weight
    return weights


def _weight(raw, column, row_no, plan) -> Decimal | None:
    try:
        weight = values.parse_decimal(raw)
    except ValueError as error:
        plan.errors.append(RowError(row_no, column, str(error)))
        return None
    if weight < 0:
        plan.errors.append(RowError(row_no, column, _("a weight cannot be negative (%(value)s)") % {"value": weight}))
        return None
    return weight
