"""Target decomposition from a file (任务分解): a planner uploads units' targets per metric and
splits each one to the unit's sub-units or staff, previews every share with the sums checked,
and confirms to write the shares as the campaign's targets — all of them or none.

Who gets a share: participants of the campaign only — a unit's direct sub-units open during the
campaign (a sub-unit closed before the campaign starts is left out, and said so), or the staff
assigned on the chosen date to the unit or any unit below it. How: equally, by weights, or in
proportion to last year's figures (each metric's indicators summed over a date range). Counts
split in whole numbers, amounts to the fen or to whole 万元; rates do not add up and are refused.
Who takes the rounding remainder is named per row (尾差承担) or on the form.

The files are read by ``campaigns.decomposition_files``, the arithmetic is
``campaigns.decomposition``, the write is ``campaigns.services.set_targets``.
"""

from __future__ import annotations

import datetime
from dataclasses import asdict, dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from branches.imports.errors import ImportFileError, RowError
from branches.imports.preview import CHANGED, FATE_LABELS, NEW, UNCHANGED
from branches.imports.reader import read_table
from branches.models import Measure, SubjectKind, Unit
from campaigns import decomposition, services
from campaigns import decomposition_files as files
from campaigns import decomposition_participants as who
from campaigns.models import (
    Campaign,
    ComponentRole,
    Metric,
    MetricComponent,
    Participant,
    Phase,
    Target,
    TargetPeriod,
)

UNITS, STAFF = who.UNITS, who.STAFF
LEVELS = (UNITS, STAFF)

# Sub-units, staff or participants per query (bound-parameter limits).
_CHUNK = 500


class DecompositionAborted(Exception):
    """Confirming found errors (the data changed since the preview): nothing was written."""

    def __init__(self, plan: DecompositionPlan):
        self.plan = plan
        super().__init__("decomposition has errors")


@dataclass(frozen=True)
class Options:
    """What the planner chose on the form; kept with the upload between preview and confirm."""

    campaign_id: int
    level: str
    method: str
    remainder_to: str = ""
    amount_quantum: Decimal = decomposition.FEN
    staff_on: datetime.date | None = None
    last_year_from: datetime.date | None = None
    last_year_to: datetime.date | None = None
    weights_text: str = ""

    def as_json(self) -> dict:
        data = asdict(self)
        data["amount_quantum"] = str(self.amount_quantum)
        for name in ("staff_on", "last_year_from", "last_year_to"):
            data[name] = data[name].isoformat() if data[name] else None
        return data

    @classmethod
    def from_json(cls, data: dict) -> Options:
        data = dict(data)
        data["amount_quantum"] = Decimal(data.get("amount_quantum") or decomposition.FEN)
        for name in ("staff_on", "last_year_from", "last_year_to"):
            data[name] = datetime.date.fromisoformat(data[name]) if data.get(name) else None
        return cls(**data)


@dataclass
class ShareLine:
    participant: Participant
    weight: Decimal
    share: Decimal
    old: Decimal | None
    takes_remainder: bool

    @property
    def fate(self) -> str:
        if self.old is None:
            return NEW
        return UNCHANGED if self.old == self.share else CHANGED

    @property
    def fate_label(self) -> str:
        return str(FATE_LABELS[self.fate])


@dataclass
class Split:
    """One unit's target for one metric and period, and its shares (they add up to the total)."""

    row_no: int
    unit: Unit
    metric: Metric
    period: str
    phase: Phase | None
    month: datetime.date | None
    total: Decimal
    quantum: Decimal
    shares: list[ShareLine]

    @property
    def period_label(self) -> str:
        if self.period == TargetPeriod.PHASE:
            return self.phase.code
        if self.period == TargetPeriod.MONTH:
            return f"{self.month:%Y-%m}"
        return str(_("campaign"))

    @property
    def share_sum(self) -> Decimal:
        return sum((line.share for line in self.shares), Decimal(0))


@dataclass
class DecompositionPlan:
    """The dry run: every split, every error (row and column named), notes on what was left out."""

    campaign: Campaign
    options: Options
    splits: list[Split] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    file_format: str = ""
    encoding: str | None = None
    header_row_no: int | None = None

    @property
    def ok(self) -> bool:
        return not self.errors and bool(self.splits)

    @property
    def counts(self) -> dict[str, int]:
        counted = {NEW: 0, CHANGED: 0, UNCHANGED: 0}
        for split in self.splits:
            for line in split.shares:
                counted[line.fate] += 1
        return counted

    @property
    def subject_kind(self) -> int:
        return SubjectKind.STAFF if self.options.level == STAFF else SubjectKind.UNIT

    def target_values(self) -> list[services.TargetValue]:
        return [
            services.TargetValue(
                participant=line.participant, metric=split.metric, target_value=line.share,
                period=split.period, phase=split.phase, month=split.month,
            )
            for split in self.splits
            for line in split.shares
        ]


def plan_decomposition(
    path, *, filename: str = "", options: Options, weights_path=None, weights_filename: str = ""
) -> DecompositionPlan:
    """Read the targets file at ``path`` (and the weights file, if any) and work out every split.

    Never writes. Raises ImportFileError when a file cannot be read at all or the campaign is
    gone; everything else is in the plan's ``errors`` (row and column named) and ``notes``.
    """
    campaign = Campaign.objects.filter(pk=options.campaign_id).first()
    if campaign is None:
        raise ImportFileError(_("Choose the campaign the targets belong to."))
    table = read_table(path, filename=filename)
    metrics = list(Metric.objects.filter(campaign=campaign))
    plan = DecompositionPlan(campaign=campaign, options=options, file_format=table.file_format, encoding=table.encoding)
    rows = files.read_targets(table, metrics, campaign, plan)
    weights = None
    if options.method == decomposition.WEIGHTS:
        weights = files.read_weights(weights_path, weights_filename, options.weights_text, metrics, plan)
    units = who.units_by_code({row.unit_code for row in rows})
    rows = [row for row in rows if who.known_unit(row, units, plan)]
    shares_to = who.participants_under(
        campaign, level=options.level, staff_on=options.staff_on, units=[units[row.unit_code] for row in rows], plan=plan
    )
    last_year = _last_year(campaign, options, rows, shares_to, metrics) if options.method == decomposition.LAST_YEAR else None
    existing = _existing_targets(campaign, shares_to)
    given: dict[tuple, int] = {}
    for row in rows:
        unit = units[row.unit_code]
        participants = shares_to.get(unit.pk, [])
        if not participants:
            plan.errors.append(RowError(row.row_no, row.unit_column, who.no_participant_message(unit, options.level)))
            continue
        remainder_to = _remainder(row, participants, unit, options, plan)
        for metric, total, column in row.totals:
            split = _split(row, unit, metric, total, column, participants, remainder_to, weights, last_year, existing, plan)
            if split is None:
                continue
            clash = _first_clash(split, given)
            if clash is not None:
                participant, other_row = clash
                plan.errors.append(
                    RowError(
                        row.row_no, column,
                        _("%(code)s already gets a share of %(metric)s from row %(row)s: list each unit once and no unit under another")
                        % {"code": participant.code, "metric": metric.name, "row": other_row},
                    )
                )
                continue
            plan.splits.append(split)
    if not rows and not plan.errors:
        plan.errors.append(RowError(plan.header_row_no or 1, str(files.UNIT_CODE.label), _("The file lists no unit's target.")))
    return plan


def confirm_decomposition(path, *, filename: str = "", options: Options, weights_path=None, weights_filename: str = "", by=None):
    """Work the split out again (the data may have changed) and write every share as a target.

    Returns (plan, services.TargetsWritten). Raises DecompositionAborted with the plan when it
    has errors now, ImportFileError when a file cannot be read: nothing is written then.
    """
    plan = plan_decomposition(path, filename=filename, options=options, weights_path=weights_path, weights_filename=weights_filename)
    if not plan.ok:
        raise DecompositionAborted(plan)
    try:
        written = services.set_targets(campaign=plan.campaign, targets=plan.target_values(), by=by)
    except ValidationError as error:
        plan.errors.append(RowError(0, "", " ".join(error.messages)))
        raise DecompositionAborted(plan) from None
    return plan, written


def shares_csv_rows(plan: DecompositionPlan) -> list[list[str]]:
    """The split as rows for the target import: 机构号 or 工号, 期间 when any split has one, then
    one column per metric (its code), one row per participant and period."""
    metrics = sorted({split.metric.pk: split.metric for split in plan.splits}.values(), key=lambda m: (m.position, m.code))
    with_period = any(split.period != TargetPeriod.CAMPAIGN for split in plan.splits)
    by_row: dict[tuple, dict[int, Decimal]] = {}
    for split in plan.splits:
        period = split.period_label if split.period != TargetPeriod.CAMPAIGN else ""
        for line in split.shares:
            by_row.setdefault((line.participant.code, period), {})[split.metric.pk] = line.share
    header = ["工号" if plan.subject_kind == SubjectKind.STAFF else "机构号", *(["期间"] if with_period else []), *(m.code for m in metrics)]
    rows = [header]
    for (code, period), shares in by_row.items():
        cells = [f"{shares[m.pk]:f}" if m.pk in shares else "" for m in metrics]
        rows.append([code, *([period] if with_period else []), *cells])
    return rows


def default_last_year(campaign: Campaign) -> tuple[datetime.date, datetime.date]:
    """The campaign's own dates one year earlier (29 February becomes the 28th)."""
    return _year_before(campaign.start_date), _year_before(campaign.end_date)


def _remainder(row: files.TargetRow, participants, unit, options: Options, plan) -> str | None:
    named = row.remainder_to or options.remainder_to
    column = row.remainder_column or str(files.REMAINDER.label)
    if not named:
        plan.errors.append(
            RowError(row.row_no, column, _("name who takes the rounding remainder (column 尾差承担, or on the form)"))
        )
        return None
    if named not in {participant.code for participant in participants}:
        plan.errors.append(
            RowError(
                row.row_no, column,
                _("%(code)s, named to take the rounding remainder, is not among those %(unit)s's targets are split to")
                % {"code": named, "unit": unit.code},
            )
        )
        return None
    return named


# --- the split ---------------------------------------------------------------------------------


@dataclass
class _LastYear:
    date_from: datetime.date
    date_to: datetime.date
    figures: dict[tuple[int, str], Decimal]  # (metric id, participant code) → figure


def _last_year(campaign, options: Options, rows, shares_to, metrics) -> _LastYear:
    """The figures to split by: one query per metric and 500 subjects."""
    default_from, default_to = default_last_year(campaign)
    result = _LastYear(options.last_year_from or default_from, options.last_year_to or default_to, {})
    kind = SubjectKind.STAFF if options.level == STAFF else SubjectKind.UNIT
    subjects = {p.code: p.subject_id for participants in shares_to.values() for p in participants}
    components: dict[int, list[tuple[int, int]]] = {}
    for component in MetricComponent.objects.filter(metric__in=metrics, role=ComponentRole.TERM):
        components.setdefault(component.metric_id, []).append((component.indicator_id, component.sign))
    wanted = {metric.pk for row in rows for metric, _total, _column in row.totals}
    for metric_id in sorted(wanted & set(components)):
        by_code = decomposition.last_year_figures(
            subject_kind=kind, subjects=subjects, components=components[metric_id],
            date_from=result.date_from, date_to=result.date_to,
        )
        result.figures.update({(metric_id, code): value for code, value in by_code.items()})
    return result


def _split(row, unit, metric, total, column, participants, remainder_to, weights, last_year, existing, plan) -> Split | None:
    options = plan.options
    codes = [participant.code for participant in participants]
    if options.method == decomposition.EQUAL:
        by_code = {code: Decimal(1) for code in codes}
    elif options.method == decomposition.WEIGHTS:
        by_code = {code: weights.of(code, metric) for code in codes}
        without = [code for code, weight in by_code.items() if weight is None]
        if without:
            plan.errors.append(
                RowError(
                    row.row_no, column,
                    _("no weight for %(codes)s among those %(unit)s's target is split to")
                    % {"codes": ", ".join(without[:10]) + (" …" if len(without) > 10 else ""), "unit": unit.code},
                )
            )
            return None
    else:
        if (metric.pk, codes[0]) not in last_year.figures:
            plan.errors.append(
                RowError(row.row_no, column, _("%(metric)s has no indicator to read last year's figures from") % {"metric": metric.name})
            )
            return None
        # A negative figure (a balance that fell) counts as 0: it earns no share of the growth.
        by_code = {code: max(last_year.figures[(metric.pk, code)], Decimal(0)) for code in codes}
        if not any(by_code.values()):
            plan.errors.append(
                RowError(
                    row.row_no, column,
                    _("the figures of %(unit)s's participants from %(start)s to %(end)s add up to 0: nothing to split by")
                    % {"unit": unit.code, "start": last_year.date_from, "end": last_year.date_to},
                )
            )
            return None
    if remainder_to is None:
        return None
    quantum = Decimal(1) if metric.measure == Measure.COUNT else options.amount_quantum
    try:
        shares = decomposition.split_by_weights(total, by_code, remainder_to=remainder_to, quantum=quantum)
    except decomposition.DecompositionError as error:
        plan.errors.append(RowError(row.row_no, column, str(error)))
        return None
    split = Split(row.row_no, unit, metric, row.period, row.phase, row.month, total, quantum, [])
    period_start = _period_start(split, plan.campaign)
    for participant in participants:
        old = existing.get((participant.pk, metric.pk, row.period, period_start))
        split.shares.append(
            ShareLine(participant, by_code[participant.code], shares[participant.code], old, participant.code == remainder_to)
        )
    return split


def _period_start(split: Split, campaign) -> datetime.date:
    if split.period == TargetPeriod.PHASE:
        return split.phase.start_date
    if split.period == TargetPeriod.MONTH:
        return split.month
    return campaign.start_date


def _existing_targets(campaign, shares_to) -> dict[tuple, Decimal]:
    ids = sorted({p.pk for participants in shares_to.values() for p in participants})
    existing = {}
    for start in range(0, len(ids), _CHUNK):
        for participant_id, metric_id, period, period_start, value in Target.objects.filter(
            campaign=campaign, participant_id__in=ids[start : start + _CHUNK]
        ).values_list("participant_id", "metric_id", "period", "period_start", "target_value"):
            existing[(participant_id, metric_id, period, period_start)] = value
    return existing


def _first_clash(split: Split, given: dict[tuple, int]):
    """A participant of ``split`` that an earlier row already gave this metric and period, or
    None (and then ``split``'s shares are recorded as given)."""
    start = split.phase.start_date if split.phase else split.month
    keys = [(line.participant.pk, split.metric.pk, split.period, start) for line in split.shares]
    for line, key in zip(split.shares, keys, strict=True):
        if key in given:
            return line.participant, given[key]
    for key in keys:
        given[key] = split.row_no
    return None


def _year_before(day: datetime.date) -> datetime.date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)
