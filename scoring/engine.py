"""The scoring engine: one campaign, one business date, computed set-based in the database.

``recompute(campaign_id, business_date)`` runs a handful of INSERT … SELECT statements (window
functions for bests and ranks), independent of the number of participants:

1. score sheets (``scoring.engine_sheets``): for each month a monthly rule or ranking needs, then
   for the campaign so far, ONE statement each that computes every participant's figures per
   metric (``scoring.engine_figures``), every rule's points (a window MAX per group for
   relative-to-best, the months combined for monthly rules, parts summed), the totals and "met
   every target", and writes one row per participant with the figures and points in arrays;
2. phase figures (one row per participant, metric and begun phase), where a ranking or the
   campaign option ``phase_figures`` asks for them;
3. gates (vetoes);
4. one statement per ranking (``scoring.engine_rankings``: RANK / DENSE_RANK / ROW_NUMBER, the
   gap to the next better place through a GROUPS window frame, movement against the previous
   day's current result set).

The day's new version becomes current in the same transaction, so readers see the old board or
the new one; a failure rolls everything back and leaves the previous results. Two recomputes of the
same day are serialised by a lock. The same SQL runs on SQLite and PostgreSQL; ``SqlDialect`` holds
the few spellings that differ.
"""

from __future__ import annotations

import datetime
import logging
import time

from django.db import connection, transaction
from django.utils import timezone

from campaigns.models import (
    Campaign,
    CampaignStatus,
    Metric,
    MetricComponent,
    Phase,
)
from scoring.engine_figures import insert_phase_results
from scoring.engine_rankings import compute_group_ranking, compute_ranking
from scoring.engine_run import Run, T, month_periods
from scoring.engine_sheets import insert_sheet
from scoring.models import (
    Evaluation,
    Gate,
    GateEffect,
    GateHit,
    GateKind,
    GroupRankEntry,
    PhaseResult,
    RankEntry,
    Ranking,
    ResultSet,
    RuleKind,
    ScoreSheet,
    ScoringRule,
)
from scoring.rules import SqlDialect

log = logging.getLogger(__name__)

# The tables a result set's rows live in (MetricResult, RuleScore and ParticipantResult are views of the sheets).
RESULT_MODELS = (ScoreSheet, PhaseResult, GateHit, RankEntry, GroupRankEntry)
# PostgreSQL settings for the recompute transaction only (see _lock_day).
BULK_SETTINGS = {"work_mem": "'256MB'", "enable_nestloop": "off", "jit": "off"}


class CampaignClosed(Exception):
    """The campaign is closed or archived: its results no longer change."""


def recompute(campaign_id: int, business_date: datetime.date) -> ResultSet:
    """Compute every figure, point, gate and rank of ``campaign_id`` for ``business_date``.

    Returns the new current ``ResultSet`` (its ``version`` is one more than the day's last).
    Idempotent: recomputing with unchanged facts and configuration gives the same rows.
    Raises ``CampaignClosed`` for a closed or archived campaign, ``Campaign.DoesNotExist`` for an
    unknown id; any database error rolls back and leaves the previous results current.
    """
    started = time.monotonic()
    with transaction.atomic():
        _lock_day(campaign_id, business_date)
        campaign = Campaign.objects.get(pk=campaign_id)
        if campaign.status in (CampaignStatus.CLOSED, CampaignStatus.ARCHIVED):
            raise CampaignClosed(campaign.code)
        last = ResultSet.objects.filter(campaign_id=campaign_id, business_date=business_date).order_by("-version").first()
        previous = ResultSet.objects.filter(
            campaign_id=campaign_id, business_date=business_date - datetime.timedelta(days=1), is_current=True
        ).first()
        result_set = ResultSet.objects.create(
            campaign=campaign,
            business_date=business_date,
            version=(last.version + 1) if last else 1,
            is_current=False,
            computed_at=timezone.now(),
        )
        with connection.cursor() as cursor:
            components: dict[int, list[tuple[int, int, str]]] = {}
            for metric_id, indicator_id, sign, role in (
                MetricComponent.objects.filter(metric__campaign=campaign)
                .order_by("metric_id", "id").values_list("metric_id", "indicator_id", "sign", "role")
            ):
                components.setdefault(metric_id, []).append((indicator_id, sign, role))
            run = Run(
                campaign=campaign,
                day=business_date,
                result_set=result_set,
                previous_set_id=previous.pk if previous else None,
                sql=SqlDialect(connection.vendor),
                cursor=cursor,
                rules=list(ScoringRule.objects.filter(campaign=campaign).select_related("metric").order_by("pk")),
                metrics={m.pk: m for m in Metric.objects.filter(campaign=campaign)},
                component_counts={
                    m: sum(1 for c in parts if c[2] == "term") for m, parts in components.items()
                },
                phases=list(Phase.objects.filter(campaign=campaign).order_by("start_date")),
                rankings=list(Ranking.objects.filter(campaign=campaign).select_related("group_set").prefetch_related("gates")),
                components=components,
            )
            run.layout = _layout(run)
            result_set.layout = run.layout
            result_set.save(update_fields=["layout"])
            months = month_periods(run.start, run.campaign.end_date, run.day)
            if run.layout["month_metrics"] or run.layout["month_rules"]:
                for first, last in months:
                    insert_sheet(run, first=first, last=last, monthly=True)
            participant_count = insert_sheet(
                run, first=run.start, last=run.period_end, monthly=False,
                last_month=months[-1][0] if months else run.start,
            )
            phase_metrics = sorted(_period_metric_ids(run, "phase"))
            if phase_metrics:
                insert_phase_results(run, phase_metrics)
            _compute_gate_hits(run)
            for ranking in run.rankings:
                if ranking.rank_groups:
                    compute_group_ranking(run, ranking)
                else:
                    compute_ranking(run, ranking)
            if connection.vendor == "postgresql":
                # A caller's own transaction goes on with its usual planner settings.
                for name in BULK_SETTINGS:
                    cursor.execute(f"SET LOCAL {name} TO DEFAULT")
        ResultSet.objects.filter(campaign_id=campaign_id, business_date=business_date, is_current=True).update(
            is_current=False
        )
        result_set.is_current = True
        result_set.computed_at = timezone.now()
        result_set.participant_count = participant_count
        result_set.seconds = round(time.monotonic() - started, 3)
        result_set.save(update_fields=["is_current", "computed_at", "participant_count", "seconds"])
    _drop_old_versions(campaign_id, business_date, keep_from=result_set.version - 1)
    log.info("recomputed campaign %s for %s: v%s in %.2fs", campaign_id, business_date, result_set.version, result_set.seconds)
    return result_set


def _layout(run: Run) -> dict[str, list[int]]:
    """Which metric and rule each position of the day's score sheets holds: every metric and rule on
    the campaign row; on month rows, the metrics monthly rules score or monthly rankings read, and
    the monthly rules."""
    month_rules = [r.pk for r in run.rules if r.kind != RuleKind.PARTS and r.evaluation == Evaluation.MONTHLY]
    month_metrics = {r.metric_id for r in run.rules if r.pk in month_rules and r.metric_id}
    month_metrics |= _period_metric_ids(run, "month")
    return {
        "metrics": sorted(run.metrics),
        "rules": [r.pk for r in run.rules],
        "month_metrics": sorted(month_metrics),
        "month_rules": month_rules,
    }


def _period_metric_ids(run: Run, period: str) -> set[int]:
    """Metrics that need rows for each month / phase: ranked on that period (with the metrics of
    its eligibility floors), or named in the campaign option ``monthly_figures`` / ``phase_figures``
    (a list of metric codes, or true for every metric)."""
    ids = set()
    for ranking in run.rankings:
        if ranking.period != period:
            continue
        if ranking.metric_id:
            ids.add(ranking.metric_id)
        ids |= {run.metric_id(f["metric"]) for f in ranking.eligibility}
    wanted = run.campaign.options.get(f"{'monthly' if period == 'month' else 'phase'}_figures") or []
    if wanted is True:
        return set(run.metrics)
    ids |= {m.pk for m in run.metrics.values() if m.code in wanted}
    return ids


def _lock_day(campaign_id: int, day: datetime.date) -> None:
    """Serialise recomputes of one (campaign, day) until the transaction ends."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"SELECT pg_advisory_xact_lock({int(campaign_id)}, {day.toordinal()})")
            # Every statement below is a bulk pass over whole tables: hash joins and in-memory
            # aggregates win, and the result tables' statistics lag behind a fresh result set.
            for name, value in BULK_SETTINGS.items():
                cursor.execute(f"SET LOCAL {name} = {value}")
        else:
            # A write first takes SQLite's single write lock now (waiting up to the busy timeout),
            # rather than failing later when a read transaction tries to upgrade.
            cursor.execute(
                f"UPDATE {T(ResultSet)} SET version = version WHERE campaign_id = %s AND business_date = %s",
                [campaign_id, day],
            )


def _drop_old_versions(campaign_id: int, day: datetime.date, *, keep_from: int) -> None:
    """Delete versions older than ``keep_from`` (the previous version stays for readers mid-page)."""
    old = list(
        ResultSet.objects.filter(campaign_id=campaign_id, business_date=day, version__lt=keep_from, is_current=False)
        .values_list("pk", flat=True)
    )
    if not old:
        return
    with transaction.atomic(), connection.cursor() as cursor:
        ids = ", ".join(str(int(i)) for i in old)
        for model in RESULT_MODELS:
            cursor.execute(f"DELETE FROM {T(model)} WHERE result_set_id IN ({ids})")
        ResultSet.objects.filter(pk__in=old).delete()


# --- 3. Gates and totals ---------------------------------------------------------------------------


def _compute_gate_hits(run: Run) -> None:
    from branches.models import Staff, SubjectKind

    sql = run.sql
    for gate in Gate.objects.filter(campaign=run.campaign):
        warning = "TRUE" if gate.effect == GateEffect.WARN else "FALSE"
        if gate.kind == GateKind.FLAG:
            who = run.participant_condition(gate.participants, "p.subject_kind", "u")
            run.execute_built(
                f"INSERT INTO {T(GateHit)} (result_set_id, participant_id, gate_id, warning) "
                f"SELECT {run.rs}, p.id, {gate.pk}, {warning} FROM campaigns_participant p "
                f"LEFT JOIN branches_unit u ON u.id = p.unit_id "
                f"JOIN scoring_participantflag fl ON fl.participant_id = p.id AND fl.code = {run.param(gate.flag)} "
                f"WHERE {run.active_where('p')} {'AND ' + who if who else ''}"
            )
            continue
        value = sql.at(f"s.{'completion' if gate.on_completion else 'actual'}", run.position("metrics", gate.metric_id))
        # A share of another metric compares figure with bar × the other figure, so a fall of the other
        # (new deposits below 0) still reads right; no figure counts as below a floor, never above a ceiling.
        per = sql.at("s.actual", run.position("metrics", gate.per_metric_id)) if gate.per_metric_id else None
        if gate.kind == GateKind.METRIC_ABOVE:
            bar = sql.lit(gate.maximum) if per is None else f"{sql.lit(gate.maximum)} * {per}"
            hit = f"{value} > {bar}"
        else:
            bar = sql.lit(gate.minimum) if per is None else f"{sql.lit(gate.minimum)} * {per}"
            hit = f"({value} IS NULL OR {bar} IS NULL OR {value} < {bar})"
        below = f"s.result_set_id = {run.rs} AND s.monthly = FALSE AND {hit}"
        if gate.kind == GateKind.STAFF_BELOW:
            # One staff participant under the floor vetoes the unit participant of their current unit
            # (of the units the gate's filter names).
            who = run.participant_condition(gate.participants, "pu.subject_kind", "u")
            run.execute_built(
                f"INSERT INTO {T(GateHit)} (result_set_id, participant_id, gate_id, warning) "
                f"SELECT DISTINCT {run.rs}, pu.id, {gate.pk}, {warning} FROM {T(ScoreSheet)} s "
                f"JOIN campaigns_participant ps ON ps.id = s.participant_id AND ps.subject_kind = {int(SubjectKind.STAFF)} "
                f"JOIN {T(Staff)} st ON st.id = ps.staff_id "
                f"JOIN campaigns_participant pu ON pu.campaign_id = {int(run.campaign.pk)} "
                f"  AND pu.subject_kind = {int(SubjectKind.UNIT)} AND pu.unit_id = st.unit_id "
                f"LEFT JOIN branches_unit u ON u.id = pu.unit_id "
                f"WHERE {below} {'AND ' + who if who else ''}"
            )
            continue
        who = run.participant_condition(gate.participants, "p.subject_kind", "u")
        run.execute_built(
            f"INSERT INTO {T(GateHit)} (result_set_id, participant_id, gate_id, warning) "
            f"SELECT {run.rs}, s.participant_id, {gate.pk}, {warning} FROM {T(ScoreSheet)} s "
            f"JOIN campaigns_participant p ON p.id = s.participant_id LEFT JOIN branches_unit u ON u.id = p.unit_id "
            f"WHERE {below} {'AND ' + who if who else ''}"
        )
