"""Reads of stored results for pages, the API and rewards: a constant number of queries each."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection
from django.db.models import OuterRef, Q, Subquery

from campaigns.models import Group, Metric, Participant, Phase
from scoring.models import (
    Gate,
    GateHit,
    GroupRankEntry,
    MetricResult,
    ParticipantResult,
    PhaseResult,
    RankEntry,
    Ranking,
    ResultSet,
    RuleScore,
    ScoreSheet,
    ScoringRule,
)
from scoring.rules import Numbers, SqlDialect, explain_monthly


def current_result_set(campaign_id: int, day: datetime.date) -> ResultSet | None:
    """The current result set of (campaign, day), or None when never computed. One query.

    Poll ``version`` / ``computed_at`` to learn whether the day's board changed.
    """
    return (
        ResultSet.objects.select_related("campaign")
        .filter(campaign_id=campaign_id, business_date=day, is_current=True)
        .first()
    )


@dataclass
class BoardRow:
    participant_id: int
    code: str
    name: str
    group_id: int | None
    rank: int
    value: Decimal
    points: Decimal | None
    previous_rank: int | None
    movement: int | None
    gap_value: Decimal | None
    gap_points: Decimal | None
    in_top: bool
    in_bottom: bool
    # names of the warning gates that hit the participant (e.g. 新增贷款超过新增存款70%)
    warnings: list[str] = field(default_factory=list)


def leaderboard(
    campaign_id: int,
    day: datetime.date,
    ranking_code: str,
    group: str | int | None = None,
    *,
    limit: int | None = None,
    offset: int = 0,
) -> list[BoardRow]:
    """One ranking's rows for the day, best first; ``group`` a group code or id to show one group.

    Empty when the day was not computed. Raises ``Ranking.DoesNotExist`` for an unknown code.
    Five queries whatever the number of rows (the fifth: warnings of the participants shown).
    """
    ranking = Ranking.objects.get(campaign_id=campaign_id, code=ranking_code)
    result_set = current_result_set(campaign_id, day)
    if result_set is None:
        return []
    entries = RankEntry.objects.filter(result_set_id=result_set.pk, ranking_id=ranking.pk)
    if group is not None:
        if isinstance(group, str):
            group = Group.objects.get(group_set_id=ranking.group_set_id, code=group).pk
        entries = entries.filter(group_id=group)
    entries = list(entries.order_by("group_id", "rank", "participant_id")[offset : (offset + limit) if limit else None])
    participants = Participant.objects.select_related("unit", "staff").in_bulk([e.participant_id for e in entries])
    warned: dict[int, list[str]] = {}
    hits = (
        GateHit.objects.filter(result_set_id=result_set.pk, warning=True, participant_id__in=[e.participant_id for e in entries])
        .annotate(gate_name=Subquery(Gate.objects.filter(pk=OuterRef("gate_id")).values("name")[:1]))
        .order_by("gate_id")
    )
    for pid, name in hits.values_list("participant_id", "gate_name"):
        warned.setdefault(pid, []).append(name)
    rows = []
    for e in entries:
        p = participants.get(e.participant_id)
        rows.append(
            BoardRow(
                participant_id=e.participant_id, code=p.code if p else "", name=p.display_name if p else "",
                group_id=e.group_id, rank=e.rank, value=e.value, points=e.points, previous_rank=e.previous_rank,
                movement=e.movement, gap_value=e.gap_value, gap_points=e.gap_points, in_top=e.in_top, in_bottom=e.in_bottom,
                warnings=warned.get(e.participant_id, []),
            )
        )
    return rows


@dataclass
class RuleLine:
    rule_id: int
    code: str
    name: str
    kind: str
    parent_id: int | None
    points: Decimal
    actual: Decimal | None
    target: Decimal | None
    completion: Decimal | None
    reference: Decimal | None
    explanation: str
    months: list[dict] = field(default_factory=list)


@dataclass
class ParticipantScores:
    result_set: ResultSet
    participant_id: int
    total_points: Decimal
    base_points: Decimal
    bonus_points: Decimal
    met_all_targets: bool
    vetoed_by: list[str]
    rules: list[RuleLine]
    figures: dict[str, dict]
    ranks: dict[str, RankEntry]
    # codes of the warning gates that hit the participant (shown, not scored)
    warnings: list[str] = field(default_factory=list)
    # {metric code: [{phase, name, start_date, end_date, actual, target, completion, time_progress}]}
    # for the metrics with phase rows (ranked per phase or in the option phase_figures).
    phases: dict[str, list[dict]] = field(default_factory=dict)


def participant_scores(campaign_id: int, day: datetime.date, participant_id: int) -> ParticipantScores | None:
    """Everything one participant earned on the day, with the explanation of every point.

    None when the day was not computed or the participant did not take part. Ten queries, whatever the number of rules.
    ``phases`` holds each begun phase's figures against the phase's own target, with its time progress.
    """
    result_set = current_result_set(campaign_id, day)
    if result_set is None:
        return None
    total = ParticipantResult.objects.filter(result_set_id=result_set.pk, participant_id=participant_id).first()
    if total is None:
        return None
    rules = {r.pk: r for r in ScoringRule.objects.filter(campaign_id=campaign_id)}
    metrics = {m.pk: m for m in Metric.objects.filter(campaign_id=campaign_id)}
    figures_rows = MetricResult.objects.filter(result_set_id=result_set.pk, participant_id=participant_id)
    by_metric_period = {(f.metric_id, f.period_start if f.monthly else None): f for f in figures_rows}
    scores = list(RuleScore.objects.filter(result_set_id=result_set.pk, participant_id=participant_id))
    months: dict[int, list[RuleScore]] = {}
    for s in scores:
        if s.monthly:
            months.setdefault(s.rule_id, []).append(s)
    lines = []
    # A rule deleted since the day was computed has no configuration left to explain it: its points
    # stay in the stored total, its line is not shown.
    for s in sorted((s for s in scores if not s.monthly and s.rule_id in rules), key=lambda s: (rules[s.rule_id].position, s.rule_id)):
        rule = rules[s.rule_id]
        figure = by_metric_period.get((rule.metric_id, None))
        numbers = Numbers(
            actual=figure.actual if figure else None, target=figure.target if figure else None,
            completion=figure.completion if figure else None, reference=s.reference, points=s.points,
        )
        if rule.evaluation == "monthly" and rule.kind != "parts":
            explanation = explain_monthly(rule, s.reference, s.points)
        else:
            explanation = rule.rule_kind().explain(numbers)
        month_lines = []
        for m in sorted(months.get(rule.pk, []), key=lambda m: m.period_start):
            mf = by_metric_period.get((rule.metric_id, m.period_start))
            month_numbers = Numbers(
                actual=mf.actual if mf else None, target=mf.target if mf else None,
                completion=mf.completion if mf else None, reference=m.reference, points=m.points,
            )
            month_lines.append(
                {"month": m.period_start, "points": m.points, "explanation": rule.rule_kind().explain(month_numbers)}
            )
        lines.append(
            RuleLine(
                rule_id=rule.pk, code=rule.code, name=rule.name, kind=rule.kind, parent_id=rule.parent_id,
                points=s.points, actual=numbers.actual, target=numbers.target, completion=numbers.completion,
                reference=s.reference, explanation=explanation, months=month_lines,
            )
        )
    hits = GateHit.objects.filter(result_set_id=result_set.pk, participant_id=participant_id)
    gates = Gate.objects.in_bulk([h.gate_id for h in hits])
    vetoed_by = sorted(gates[h.gate_id].code for h in hits if not h.warning and h.gate_id in gates)
    warnings = sorted(gates[h.gate_id].code for h in hits if h.warning and h.gate_id in gates)
    ranking_codes = dict(Ranking.objects.filter(campaign_id=campaign_id).values_list("pk", "code"))
    ranks = {
        ranking_codes.get(e.ranking_id, str(e.ranking_id)): e
        # by (ranking, participant) for each of the campaign's rankings: the key's order
        for e in RankEntry.objects.filter(result_set_id=result_set.pk, ranking_id__in=list(ranking_codes), participant_id=participant_id)
    }
    figures = {
        metrics[f.metric_id].code: {"actual": f.actual, "target": f.target, "base": f.base, "completion": f.completion}
        for (metric_id, period), f in by_metric_period.items()
        if period is None and metric_id in metrics
    }
    return ParticipantScores(
        result_set=result_set, participant_id=participant_id, total_points=total.total_points,
        base_points=total.base_points, bonus_points=total.bonus_points, met_all_targets=total.met_all_targets,
        vetoed_by=vetoed_by, warnings=warnings, rules=lines, figures=figures, ranks=ranks,
        phases=_phase_lines(result_set, participant_id, metrics, day),
    )


def _phase_lines(result_set, participant_id: int, metrics: dict, day: datetime.date) -> dict[str, list[dict]]:
    """One query: the participant's phase rows with their phase's code, name and dates."""
    from campaigns.selectors import time_progress

    phase = Phase.objects.filter(pk=OuterRef("phase_id"))
    rows = (
        PhaseResult.objects.filter(result_set_id=result_set.pk, participant_id=participant_id)
        .annotate(
            code=Subquery(phase.values("code")[:1]), name=Subquery(phase.values("name")[:1]),
            first=Subquery(phase.values("start_date")[:1]), last=Subquery(phase.values("end_date")[:1]),
        )
        .order_by("period_start", "metric_id")
    )
    out: dict[str, list[dict]] = {}
    for row in rows:
        if row.metric_id not in metrics:
            continue
        out.setdefault(metrics[row.metric_id].code, []).append({
            "phase": row.code, "name": row.name, "start_date": row.first, "end_date": row.last,
            "actual": row.actual, "target": row.target, "completion": row.completion,
            "time_progress": time_progress(start=row.first, end=row.last, day=day),
        })
    return out


def metric_figures(
    campaign_id: int, day: datetime.date, metric_code: str, *, field: str = "completion", month: datetime.date | None = None
) -> dict[int, Decimal | None]:
    """{participant id: figure} of one metric on the day's current board; three queries.

    ``field``: actual, target, base or completion. ``month``: a month's own figures (only
    computed for metrics scored or ranked monthly); default the campaign period so far. Empty
    when the day was not computed.
    """
    if field not in ("actual", "target", "base", "completion"):
        raise ValueError(field)
    result_set = current_result_set(campaign_id, day)
    if result_set is None:
        return {}
    metric_id = Metric.objects.filter(campaign_id=campaign_id, code=metric_code).values_list("pk", flat=True).first()
    period_start = None if month is None else max(month.replace(day=1), result_set.campaign.start_date)
    return sheet_figures(result_set, metric_id, field=field, month=period_start)


def sheet_figures(
    result_set: ResultSet, metric_id: int | None, *, field: str = "completion", month: datetime.date | None = None
) -> dict[int, Decimal | None]:
    """{participant id: figure} of one metric from a result set's score sheets, read by the metric's
    position in the arrays (one query, one row per participant). ``month``: the period start of
    a month's rows; default the campaign row. Empty when the metric has no figures there."""
    if field not in ("actual", "target", "base", "completion"):
        raise ValueError(field)
    key = "metrics" if month is None else "month_metrics"
    layout = result_set.layout.get(key) or []
    if metric_id is None or metric_id not in layout:
        return {}
    sql = SqlDialect(connection.vendor)
    column = sql.at(f"s.{field}", layout.index(metric_id) + 1)
    condition = "s.monthly = FALSE" if month is None else "s.monthly = TRUE AND s.period_start = %s"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT s.participant_id, {column} FROM {ScoreSheet._meta.db_table} s "
            f"WHERE s.result_set_id = %s AND {condition}",
            [result_set.pk] + ([] if month is None else [month]),
        )
        rows = cursor.fetchall()
    decimal = _decimal_reader()
    return {pid: decimal(value) for pid, value in rows}


def _decimal_reader():
    """Array elements come back as Decimal (PostgreSQL) or float (SQLite JSON); Decimal either way,
    rounded to the 6 decimals a figure is stored with."""
    quantum = Decimal("0.000001")

    def read(value):
        if value is None:
            return None
        return value if isinstance(value, Decimal) else Decimal(repr(value)).quantize(quantum)

    return read


def results_changed_since(campaign_id: int, day: datetime.date, version: int | None) -> bool:
    """True when the day's current board is newer than ``version`` (for polling screens). One query."""
    return ResultSet.objects.filter(
        Q(campaign_id=campaign_id, business_date=day, is_current=True) & ~Q(version=version or 0)
    ).exists()


def phase_figures(
    campaign_id: int, day: datetime.date, metric_code: str, *, phase: str | None = None, field: str = "completion"
) -> dict[int, Decimal | None]:
    """{participant id: figure} of one metric over one phase on the day's current board; four queries.

    ``phase``: a phase code; default the phase the day falls in (else the last begun one).
    ``field``: actual, target, base or completion. Phase rows exist for metrics ranked per phase
    or named in the campaign option ``phase_figures``; empty otherwise or when not computed.
    """
    if field not in ("actual", "target", "base", "completion"):
        raise ValueError(field)
    result_set = current_result_set(campaign_id, day)
    if result_set is None:
        return {}
    phases = Phase.objects.filter(campaign_id=campaign_id, start_date__lte=day).order_by("-start_date")
    chosen = phases.filter(code=phase).first() if phase else (phases.filter(end_date__gte=day).first() or phases.first())
    if chosen is None:
        return {}
    metric_id = Metric.objects.filter(campaign_id=campaign_id, code=metric_code).values_list("pk", flat=True).first()
    rows = PhaseResult.objects.filter(result_set_id=result_set.pk, metric_id=metric_id, phase_id=chosen.pk)
    return dict(rows.values_list("participant_id", field))


@dataclass
class GroupBoardRow:
    group_id: int
    code: str
    name: str
    rank: int
    value: Decimal
    actual_sum: Decimal | None
    target_sum: Decimal | None
    members: int
    previous_rank: int | None
    gap_value: Decimal | None
    in_top: bool
    in_bottom: bool


def group_leaderboard(campaign_id: int, day: datetime.date, ranking_code: str) -> list[GroupBoardRow]:
    """The groups of a ranking with ``rank_groups`` (e.g. war zones), best first; empty when not computed.

    Raises ``Ranking.DoesNotExist`` for an unknown code. Four queries.
    """
    ranking = Ranking.objects.get(campaign_id=campaign_id, code=ranking_code)
    result_set = current_result_set(campaign_id, day)
    if result_set is None:
        return []
    entries = list(GroupRankEntry.objects.filter(result_set_id=result_set.pk, ranking_id=ranking.pk).order_by("rank", "group_id"))
    groups = Group.objects.in_bulk([e.group_id for e in entries])
    return [
        GroupBoardRow(
            group_id=e.group_id, code=groups[e.group_id].code if e.group_id in groups else "",
            name=groups[e.group_id].name if e.group_id in groups else "", rank=e.rank, value=e.value,
            actual_sum=e.actual_sum, target_sum=e.target_sum, members=e.members, previous_rank=e.previous_rank,
            gap_value=e.gap_value, in_top=e.in_top, in_bottom=e.in_bottom,
        )
        for e in entries
    ]
