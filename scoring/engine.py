"""The scoring engine: one campaign, one business date, computed set-based in the database.

``recompute(campaign_id, business_date)`` runs a handful of INSERT … SELECT statements (window
functions for bests and ranks), independent of the number of participants:

1. figures per participant and metric (``scoring.engine_figures``: one statement for point-in-time figures, one for figures
   over a date range), for the campaign period and for each month a monthly rule needs;
2. rule points: one statement for every plain rule, one per relative-to-best rule (a window MAX
   per group), one to combine monthly scores, one to add up parts;
3. gates (vetoes), then participant totals and the "met every target" flag;
4. one statement per ranking (RANK / DENSE_RANK / ROW_NUMBER, the gap to the next better place
   through a GROUPS window frame, movement against the previous day's current result set).

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
from django.db.models import Count
from django.utils import timezone

from campaigns.models import (
    Campaign,
    CampaignStatus,
    ComponentRole,
    Metric,
    MetricComponent,
    Phase,
)
from scoring.engine_figures import compute_metric_results
from scoring.engine_rankings import compute_group_ranking, compute_ranking
from scoring.engine_run import Run, T, month_periods, participant_filter_sql
from scoring.models import (
    Evaluation,
    Gate,
    GateHit,
    GateKind,
    GroupRankEntry,
    MetricResult,
    MonthlyCombine,
    ParticipantResult,
    PhaseResult,
    RankEntry,
    Ranking,
    ResultSet,
    RuleKind,
    RuleScore,
    ScoringRule,
)
from scoring.rules import SqlDialect

log = logging.getLogger(__name__)

RESULT_MODELS = (MetricResult, PhaseResult, RuleScore, ParticipantResult, GateHit, RankEntry, GroupRankEntry)
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
            run = Run(
                campaign=campaign,
                day=business_date,
                result_set=result_set,
                previous_set_id=previous.pk if previous else None,
                sql=SqlDialect(connection.vendor),
                cursor=cursor,
                rules=list(ScoringRule.objects.filter(campaign=campaign).select_related("metric")),
                metrics={m.pk: m for m in Metric.objects.filter(campaign=campaign)},
                component_counts=dict(
                    MetricComponent.objects.filter(metric__campaign=campaign, role=ComponentRole.TERM)
                    .values("metric_id").annotate(n=Count("id")).values_list("metric_id", "n")
                ),
                phases=list(Phase.objects.filter(campaign=campaign).order_by("start_date")),
                rankings=list(Ranking.objects.filter(campaign=campaign).select_related("group_set").prefetch_related("gates")),
            )
            compute_metric_results(run)
            _compute_rule_scores(run)
            _compute_gate_hits(run)
            participant_count = _compute_participant_results(run)
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


# --- 2. Rule points ------------------------------------------------------------------------------


def _compute_rule_scores(run: Run) -> None:
    leaves = [r for r in run.rules if r.kind != RuleKind.PARTS]
    cumulative = [r for r in leaves if r.evaluation == Evaluation.CUMULATIVE]
    monthly = [r for r in leaves if r.evaluation == Evaluation.MONTHLY]
    _insert_rule_points(run, cumulative, run.start, store_period=False)
    if monthly:
        months = month_periods(run.start, run.campaign.end_date, run.day)
        for first, _last in months:
            _insert_rule_points(run, monthly, first, store_period=True)
        for rule in monthly:
            _combine_months(run, rule, last_month=months[-1][0] if months else run.start)
    parents = [r for r in run.rules if r.kind == RuleKind.PARTS]
    if parents:
        ids = ", ".join(str(r.pk) for r in parents)
        run.execute(
            f"INSERT INTO {T(RuleScore)} (result_set_id, participant_id, rule_id, period_start, monthly, points, reference) "
            f"SELECT {run.rs}, s.participant_id, r.parent_id, %s, FALSE, SUM(s.points), NULL "
            f"FROM {T(RuleScore)} s JOIN {T(ScoringRule)} r ON r.id = s.rule_id "
            f"WHERE s.result_set_id = {run.rs} AND s.monthly = FALSE AND r.parent_id IN ({ids}) "
            "GROUP BY s.participant_id, r.parent_id",
            [run.start],
        )


def _insert_rule_points(run: Run, rules: list[ScoringRule], period_start: datetime.date, *, store_period: bool) -> None:
    """Points of ``rules`` from the figures of the period starting ``period_start``.

    Plain kinds go in one statement (a CASE on the rule id); each relative-to-best rule needs its
    own window over its groups.
    """
    if not rules:
        return
    sql = run.sql
    monthly = "TRUE" if store_period else "FALSE"
    plain = [r for r in rules if r.kind != RuleKind.RELATIVE_TO_BEST]
    # Rules for everybody share one statement; a rule limited to some participants has its own.
    batches = [[r for r in plain if not r.participants]] + [[r] for r in plain if r.participants]
    for batch in batches:
        if not batch:
            continue
        who, who_params = participant_filter_sql(batch[0].participants, "src.participant_id")
        cases = " ".join(f"WHEN {r.pk} THEN {r.rule_kind().points_sql(sql)}" for r in batch)
        ids = ", ".join(str(r.pk) for r in batch)
        run.execute(
            f"INSERT INTO {T(RuleScore)} (result_set_id, participant_id, rule_id, period_start, monthly, points, reference) "
            f"SELECT {run.rs}, src.participant_id, r.id, %s, {monthly}, CASE r.id {cases} END, NULL "
            f"FROM {T(MetricResult)} src JOIN {T(ScoringRule)} r ON r.metric_id = src.metric_id "
            f"WHERE src.result_set_id = {run.rs} AND src.period_start = %s AND src.monthly = {monthly} AND r.id IN ({ids}) "
            f"{'AND ' + who if who else ''} ORDER BY src.participant_id, r.id",
            [period_start, period_start, *who_params],
        )
    for rule in rules:
        if rule.kind != RuleKind.RELATIVE_TO_BEST:
            continue
        kind = rule.rule_kind()
        on = "mr.completion" if kind.params["on"] == "completion" else "mr.actual"
        if rule.group_set_id:
            join = (
                "LEFT JOIN campaigns_groupmembership gm ON gm.participant_id = mr.participant_id "
                f"AND gm.group_set_id = {int(rule.group_set_id)}"
            )
            window = "PARTITION BY gm.group_id"
        else:
            join, window = "", ""
        # The best is taken among the participants the rule scores only.
        who, who_params = participant_filter_sql(rule.participants, "mr.participant_id")
        run.execute(
            f"INSERT INTO {T(RuleScore)} (result_set_id, participant_id, rule_id, period_start, monthly, points, reference) "
            f"SELECT {run.rs}, src.participant_id, {rule.pk}, %s, {monthly}, {kind.points_sql(sql)}, src.best "
            "FROM ("
            f"  SELECT mr.participant_id, mr.actual, mr.target, mr.completion, MAX({on}) OVER ({window}) AS best "
            f"  FROM {T(MetricResult)} mr {join} "
            f"  WHERE mr.result_set_id = {run.rs} AND mr.metric_id = {int(rule.metric_id)} AND mr.period_start = %s "
            f"  AND mr.monthly = {monthly} {'AND ' + who if who else ''}"
            ") src",
            [period_start, period_start, *who_params],
        )


def _combine_months(run: Run, rule: ScoringRule, *, last_month: datetime.date) -> None:
    """The quarter's result of a monthly rule: average, last month, or full points only if every month had them."""
    sql = run.sql
    if rule.monthly_combine == MonthlyCombine.LAST:
        combined = "MAX(CASE WHEN s.period_start = %s THEN s.points END)"
        params = [last_month]
    elif rule.monthly_combine == MonthlyCombine.ALL_PASS:
        combined = f"CASE WHEN MIN(s.points) >= {sql.lit(rule.points)} THEN {sql.lit(rule.points)} ELSE 0 END"
        params = []
    else:
        combined = f"{sql.num('SUM(s.points)')} / COUNT(*)"
        params = []
    run.execute(
        f"INSERT INTO {T(RuleScore)} (result_set_id, participant_id, rule_id, period_start, monthly, points, reference) "
        f"SELECT {run.rs}, s.participant_id, {rule.pk}, %s, FALSE, {combined}, COUNT(*) "
        f"FROM {T(RuleScore)} s WHERE s.result_set_id = {run.rs} AND s.rule_id = {rule.pk} AND s.monthly = TRUE "
        "GROUP BY s.participant_id",
        [run.start, *params],
    )


# --- 3. Gates and totals ---------------------------------------------------------------------------


def _compute_gate_hits(run: Run) -> None:
    from branches.models import Staff, SubjectKind

    for gate in Gate.objects.filter(campaign=run.campaign):
        if gate.kind == GateKind.FLAG:
            where, params = run.active_participants()
            who, who_params = participant_filter_sql(gate.participants, "p.id")
            run.execute(
                f"INSERT INTO {T(GateHit)} (result_set_id, participant_id, gate_id) "
                f"SELECT {run.rs}, p.id, {gate.pk} FROM campaigns_participant p "
                "JOIN scoring_participantflag fl ON fl.participant_id = p.id AND fl.code = %s "
                f"WHERE {where} {'AND ' + who if who else ''}",
                [gate.flag, *params, *who_params],
            )
            continue
        column = "completion" if gate.on_completion else "actual"
        below = (
            f"mr.result_set_id = {run.rs} AND mr.metric_id = {int(gate.metric_id)} AND mr.period_start = %s AND mr.monthly = FALSE "
            f"AND (mr.{column} IS NULL OR mr.{column} < {run.sql.lit(gate.minimum)})"
        )
        if gate.kind == GateKind.STAFF_BELOW:
            # One staff participant under the floor vetoes the unit participant of their current unit.
            run.execute(
                f"INSERT INTO {T(GateHit)} (result_set_id, participant_id, gate_id) "
                f"SELECT DISTINCT {run.rs}, pu.id, {gate.pk} FROM {T(MetricResult)} mr "
                f"JOIN campaigns_participant ps ON ps.id = mr.participant_id AND ps.subject_kind = {int(SubjectKind.STAFF)} "
                f"JOIN {T(Staff)} st ON st.id = ps.staff_id "
                f"JOIN campaigns_participant pu ON pu.campaign_id = {int(run.campaign.pk)} "
                f"  AND pu.subject_kind = {int(SubjectKind.UNIT)} AND pu.unit_id = st.unit_id "
                f"WHERE {below}",
                [run.start],
            )
            continue
        who, who_params = participant_filter_sql(gate.participants, "mr.participant_id")
        run.execute(
            f"INSERT INTO {T(GateHit)} (result_set_id, participant_id, gate_id) "
            f"SELECT {run.rs}, mr.participant_id, {gate.pk} FROM {T(MetricResult)} mr "
            f"WHERE {below} {'AND ' + who if who else ''}",
            [run.start, *who_params],
        )


def _compute_participant_results(run: Run) -> int:
    """Totals (base + bonus points of top-level rules), 'met every target', and veto; returns the
    number of participants scored."""
    top = [r for r in run.rules if r.parent_id is None]
    bonus_ids = {r.pk for r in top if r.kind == RuleKind.BONUS}
    covers_bonus = bool(run.campaign.options.get("met_all_covers_bonus", False))
    scored_metrics = {
        r.metric_id for r in run.rules if r.metric_id and (covers_bonus or r.kind != RuleKind.BONUS)
    }
    top_ids = ", ".join(str(r.pk) for r in top) or "NULL"
    bonus_list = ", ".join(str(i) for i in bonus_ids) or "NULL"
    metric_list = ", ".join(str(i) for i in scored_metrics) or "NULL"
    where, params = run.active_participants()
    run.execute(
        f"INSERT INTO {T(ParticipantResult)} "
        "(result_set_id, participant_id, total_points, base_points, bonus_points, met_all_targets, vetoed) "
        f"SELECT {run.rs}, p.id, COALESCE(s.total, 0), COALESCE(s.total, 0) - COALESCE(s.bonus, 0), COALESCE(s.bonus, 0), "
        "CASE WHEN COALESCE(mm.missed, 0) = 0 THEN TRUE ELSE FALSE END, "
        "CASE WHEN g.participant_id IS NULL THEN FALSE ELSE TRUE END "
        "FROM campaigns_participant p "
        "LEFT JOIN ("
        # Which rules and metrics count is decided inside the sums: a condition on the rule or
        # metric in WHERE is not on the key's prefix and made PostgreSQL scan the key, then sort.
        f"  SELECT participant_id, SUM(CASE WHEN rule_id IN ({top_ids}) THEN points ELSE 0 END) AS total, "
        f"  SUM(CASE WHEN rule_id IN ({bonus_list}) THEN points ELSE 0 END) AS bonus "
        f"  FROM {T(RuleScore)} WHERE result_set_id = {run.rs} AND monthly = FALSE "
        "  GROUP BY participant_id"
        ") s ON s.participant_id = p.id "
        "LEFT JOIN ("
        "  SELECT participant_id, "
        f"  SUM(CASE WHEN metric_id IN ({metric_list}) AND target IS NOT NULL AND (actual IS NULL OR actual < target) "
        "  THEN 1 ELSE 0 END) AS missed "
        f"  FROM {T(MetricResult)} WHERE result_set_id = {run.rs} AND period_start = %s AND monthly = FALSE "
        "  GROUP BY participant_id"
        ") mm ON mm.participant_id = p.id "
        f"LEFT JOIN (SELECT DISTINCT participant_id FROM {T(GateHit)} WHERE result_set_id = {run.rs}) g "
        "  ON g.participant_id = p.id "
        f"WHERE {where} ORDER BY p.id",
        [run.start, *params],
    )
    return run.cursor.rowcount
