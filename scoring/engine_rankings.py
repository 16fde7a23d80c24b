"""Ranking statements of a recompute: one INSERT … SELECT per ranking (participants within their
groups, or the groups of a set against each other). See docs/scoring.md, "Rankings"."""

from __future__ import annotations

from decimal import Decimal

from scoring.engine_run import Run, T, month_periods, participant_filter_sql
from scoring.models import (
    Gate,
    GateEffect,
    GateHit,
    GroupRankEntry,
    PhaseResult,
    RankEntry,
    Ranking,
    RankingBasis,
    ScoreSheet,
    TieBreak,
)


def _period_rows(run: Run, ranking: Ranking, alias: str, metric_id: int, column: str) -> tuple[str, str, str, list] | None:
    """(table, condition, value expression, params) reading ``column`` (actual, target, completion)
    of ``metric_id`` from the rows of ``alias`` for the ranking's period: the campaign's or the
    current month's score sheets, or the named / current phase's rows. None when that phase has not
    begun (nothing to rank yet)."""
    rs = run.rs
    if ranking.period == "phase":
        phase = run.phase_for(ranking.phase)
        if phase is None:
            return None
        return (
            T(PhaseResult),
            f"{alias}.result_set_id = {rs} AND {alias}.phase_id = {int(phase.pk)} AND {alias}.metric_id = {int(metric_id)}",
            f"{alias}.{column}",
            [],
        )
    if ranking.period == "month":
        months = month_periods(run.start, run.campaign.end_date, run.day)
        if not months:  # a day before the campaign starts: no month to rank
            return None
        month = months[-1][0]
        value = run.sql.at(f"{alias}.{column}", run.position("month_metrics", metric_id))
        return T(ScoreSheet), f"{alias}.result_set_id = {rs} AND {alias}.monthly = TRUE AND {alias}.period_start = %s", value, [month]
    value = run.sql.at(f"{alias}.{column}", run.position("metrics", metric_id))
    return T(ScoreSheet), f"{alias}.result_set_id = {rs} AND {alias}.monthly = FALSE", value, []


def _ranking_source(run: Run, ranking: Ranking) -> tuple[str, list] | None:
    """SELECT pid, v (the ranked value), pts, act, tgt: one row per participant with a value."""
    sql = run.sql
    rs = run.rs
    campaign_row = f"s.result_set_id = {rs} AND s.monthly = FALSE"
    if ranking.basis == RankingBasis.TOTAL_SCORE:
        return (
            f"SELECT s.participant_id AS pid, s.total_points AS v, s.total_points AS pts, "
            f"{sql.num('NULL')} AS act, {sql.num('NULL')} AS tgt FROM {T(ScoreSheet)} s WHERE {campaign_row}"
        ), []
    if ranking.basis == RankingBasis.RULE_POINTS:
        points = sql.at("s.points", run.position("rules", ranking.rule_id))
        return (
            f"SELECT s.participant_id AS pid, {points} AS v, {points} AS pts, {sql.num('NULL')} AS act, "
            f"{sql.num('NULL')} AS tgt FROM {T(ScoreSheet)} s WHERE {campaign_row} AND {points} IS NOT NULL"
        ), []
    column = "completion" if ranking.basis == RankingBasis.METRIC_COMPLETION else "actual"
    rows = _period_rows(run, ranking, "mr", ranking.metric_id, column)
    if rows is None:
        return None
    table, condition, value, params = rows
    actual = _period_rows(run, ranking, "mr", ranking.metric_id, "actual")[2]
    target = _period_rows(run, ranking, "mr", ranking.metric_id, "target")[2]
    with_points = ranking.rule_id and ranking.period == "campaign"
    points = sql.at("mr.points", run.position("rules", ranking.rule_id)) if with_points else sql.num("NULL")
    return (
        f"SELECT mr.participant_id AS pid, {value} AS v, {points} AS pts, {actual} AS act, {target} AS tgt "
        f"FROM {table} mr WHERE {condition} AND {value} IS NOT NULL"
    ), params


def _eligibility(run: Run, ranking: Ranking) -> tuple[list[str], list]:
    """Conditions on ``b.pid``: floors (read on the ranking's own period), flags, gates, participant filter."""
    sql = run.sql
    rs = run.rs
    conditions, params = [], []
    for floor in ranking.eligibility:
        column = "completion" if floor.get("on") == "completion" else "actual"
        rows = _period_rows(run, ranking, "e", run.metric_id(floor["metric"]), column)
        if rows is None:  # no phase begun: nobody reaches a phase floor
            conditions.append("1 = 0")
            continue
        table, condition, value, floor_params = rows
        conditions.append(
            f"EXISTS (SELECT 1 FROM {table} e WHERE {condition} AND e.participant_id = b.pid "
            f"AND {value} >= {sql.lit(Decimal(str(floor['min'])))})"
        )
        params += floor_params
    for required in ranking.required_flags:
        # "not:FLAG" requires the flag's absence (rulebook A criticises branches that missed their targets).
        negate = required.startswith("not:")
        flag = required.removeprefix("not:")
        before = len(conditions)
        if flag == "met_all_targets":
            conditions.append(
                f"EXISTS (SELECT 1 FROM {T(ScoreSheet)} q WHERE q.result_set_id = {rs} AND q.monthly = FALSE "
                "AND q.participant_id = b.pid AND q.met_all_targets = TRUE)"
            )
        elif flag.startswith("met:"):
            position = run.position("metrics", run.metric_id(flag[4:]))
            actual, target = sql.at("e.actual", position), sql.at("e.target", position)
            conditions.append(
                f"EXISTS (SELECT 1 FROM {T(ScoreSheet)} e WHERE e.result_set_id = {rs} AND e.monthly = FALSE "
                f"AND e.participant_id = b.pid AND {target} IS NOT NULL AND {actual} >= {target})"
            )
        else:
            conditions.append(
                "EXISTS (SELECT 1 FROM scoring_participantflag fl WHERE fl.participant_id = b.pid AND fl.code = %s)"
            )
            params.append(flag)
        if negate:
            conditions[before] = f"NOT {conditions[before]}"
    # Warnings are shown, never take anybody out of a ranking.
    gate_ids = [g.pk for g in ranking.gates.all() if g.effect == GateEffect.VETO]
    all_gates = list(
        Gate.objects.filter(campaign=run.campaign, effect=GateEffect.VETO).exclude(rankings__isnull=False).values_list("pk", flat=True)
    )
    vetoing = sorted(set(gate_ids) | set(all_gates))
    if vetoing:
        conditions.append(
            f"NOT EXISTS (SELECT 1 FROM {T(GateHit)} gh WHERE gh.result_set_id = {rs} AND gh.participant_id = b.pid "
            f"AND gh.gate_id IN ({', '.join(str(i) for i in vetoing)}))"
        )
    who, who_params = participant_filter_sql(ranking.participants, "b.pid")
    if who:
        conditions.append(who)
        params += who_params
    return conditions, params


def _group_join(run: Run, ranking: Ranking, pid: str) -> tuple[str, list]:
    """JOIN to the ranking's group set (only the named groups when ``only_groups`` is set)."""
    join = f"JOIN campaigns_groupmembership gm ON gm.participant_id = {pid} AND gm.group_set_id = {int(ranking.group_set_id)}"
    if not ranking.only_groups:
        return join, []
    codes = list(ranking.only_groups)
    return (
        f"{join} AND gm.group_id IN (SELECT g.id FROM campaigns_group g WHERE g.group_set_id = {int(ranking.group_set_id)} "
        f"AND g.code IN ({', '.join(['%s'] * len(codes))}))",
        codes,
    )


def compute_ranking(run: Run, ranking: Ranking) -> None:
    """One INSERT … SELECT: eligible participants ranked within their group, with gap and movement."""
    rs = run.rs
    source = _ranking_source(run, ranking)
    if source is None:
        return
    source_sql, params = source
    conditions, condition_params = _eligibility(run, ranking)
    if ranking.group_set_id:
        group_join, group_params = _group_join(run, ranking, "b.pid")
        group = "gm.group_id"
    else:
        group_join, group_params, group = "", [], "CAST(NULL AS BIGINT)"
    where = " AND ".join(conditions) or "1 = 1"
    if ranking.tie_break_metric:
        # Equal values are ordered by a second figure (largest first, missing last) before the tie rule.
        tie_join = (
            f"LEFT JOIN {T(ScoreSheet)} tb ON tb.result_set_id = {rs} AND tb.participant_id = b.pid AND tb.monthly = FALSE"
        )
        tie_params = []
        second = run.sql.at("tb.actual", run.position("metrics", run.metric_id(ranking.tie_break_metric)))
        tie_columns = f"CASE WHEN {second} IS NULL THEN 1 ELSE 0 END AS v2n, {second} AS v2"
        then_by = ", z0.v2n, z0.v2 DESC"
    else:
        tie_join, tie_params, tie_columns, then_by = "", [], "0 AS v2n, 0 AS v2", ""
    params = [*params, *group_params, *tie_params, *condition_params]

    best_first = "DESC" if ranking.descending else "ASC"
    worst_first = "ASC" if ranking.descending else "DESC"
    worst_then = ", z0.v2n DESC, z0.v2 ASC" if then_by else ""
    partition = "PARTITION BY z0.gid"
    order = f"z0.v {best_first}{then_by}"
    if ranking.tie_break == TieBreak.ORDINAL:
        rank = f"ROW_NUMBER() OVER ({partition} ORDER BY {order}, z0.pid)"
        bottom = f"ROW_NUMBER() OVER ({partition} ORDER BY z0.v {worst_first}{worst_then}, z0.pid DESC)"
        frame = f"({partition} ORDER BY {order}, z0.pid ROWS BETWEEN 1 PRECEDING AND 1 PRECEDING)"
    else:
        function = "DENSE_RANK()" if ranking.tie_break == TieBreak.DENSE else "RANK()"
        rank = f"{function} OVER ({partition} ORDER BY {order})"
        bottom = f"{function} OVER ({partition} ORDER BY z0.v {worst_first}{worst_then})"
        frame = f"({partition} ORDER BY {order} GROUPS BETWEEN 1 PRECEDING AND 1 PRECEDING)"
    gap = "z.better_v - z.v" if ranking.descending else "z.v - z.better_v"
    top_n = f"CASE WHEN z.rnk <= {int(ranking.top_n)} THEN TRUE ELSE FALSE END" if ranking.top_n else "FALSE"
    bottom_n = f"CASE WHEN z.brnk <= {int(ranking.bottom_n)} THEN TRUE ELSE FALSE END" if ranking.bottom_n else "FALSE"
    previous = (
        f"LEFT JOIN {T(RankEntry)} prev ON prev.result_set_id = {int(run.previous_set_id)} "
        f"AND prev.ranking_id = {ranking.pk} AND prev.participant_id = z.pid"
        if run.previous_set_id
        else ""
    )
    previous_rank = "prev.rank" if run.previous_set_id else "NULL"
    run.execute(
        f"INSERT INTO {T(RankEntry)} (result_set_id, ranking_id, participant_id, group_id, value, points, rank, "
        "previous_rank, gap_value, gap_points, in_top, in_bottom) "
        f"SELECT {rs}, {ranking.pk}, z.pid, z.gid, z.v, z.pts, z.rnk, {previous_rank}, {gap}, z.better_pts - z.pts, "
        f"{top_n}, {bottom_n} "
        "FROM ("
        # The bottom places need a second sort of every row: only when the ranking marks a bottom N.
        f"  SELECT z0.pid, z0.gid, z0.v, z0.pts, {rank} AS rnk, {bottom if ranking.bottom_n else 'NULL'} AS brnk, "
        f"  MIN(z0.v) OVER {frame} AS better_v, MIN(z0.pts) OVER {frame} AS better_pts "
        f"  FROM (SELECT b.pid, {group} AS gid, b.v, b.pts, {tie_columns} FROM ({source_sql}) b {group_join} {tie_join} "
        f"  WHERE {where}) z0"
        f") z {previous} ORDER BY z.pid",
        params,
    )


def compute_group_ranking(run: Run, ranking: Ranking) -> None:
    """Groups of the ranking's group set ranked against each other (war zones, 战区 PK).

    A group's value aggregates its members' values (after the participant filter, eligibility
    floors, flags and gates): their sum, average, or Σ actual ÷ Σ target (completion of sums).
    """
    sql = run.sql
    rs = run.rs
    source = _ranking_source(run, ranking)
    if source is None:
        return
    source_sql, params = source
    conditions, condition_params = _eligibility(run, ranking)
    group_join, group_params = _group_join(run, ranking, "b.pid")
    where = " AND ".join(conditions) or "1 = 1"
    if ranking.group_aggregate == "completion_of_sums":
        value = sql.div("SUM(b.act)", "SUM(b.tgt)")
    elif ranking.group_aggregate == "average":
        value = f"{sql.num('SUM(b.v)')} / COUNT(*)"
    else:
        value = "SUM(b.v)"
    best_first = "DESC" if ranking.descending else "ASC"
    worst_first = "ASC" if ranking.descending else "DESC"
    function = {TieBreak.DENSE: "DENSE_RANK()", TieBreak.ORDINAL: "ROW_NUMBER()"}.get(ranking.tie_break, "RANK()")
    tail = ", g.gid" if ranking.tie_break == TieBreak.ORDINAL else ""
    frame = (
        f"(ORDER BY g.v {best_first}{tail} ROWS BETWEEN 1 PRECEDING AND 1 PRECEDING)"
        if tail
        else f"(ORDER BY g.v {best_first} GROUPS BETWEEN 1 PRECEDING AND 1 PRECEDING)"
    )
    gap = "z.better_v - z.v" if ranking.descending else "z.v - z.better_v"
    top_n = f"CASE WHEN z.rnk <= {int(ranking.top_n)} THEN TRUE ELSE FALSE END" if ranking.top_n else "FALSE"
    bottom_n = f"CASE WHEN z.brnk <= {int(ranking.bottom_n)} THEN TRUE ELSE FALSE END" if ranking.bottom_n else "FALSE"
    previous = (
        f"LEFT JOIN {T(GroupRankEntry)} prev ON prev.result_set_id = {int(run.previous_set_id)} "
        f"AND prev.ranking_id = {ranking.pk} AND prev.group_id = z.gid"
        if run.previous_set_id
        else ""
    )
    run.execute(
        f"INSERT INTO {T(GroupRankEntry)} (result_set_id, ranking_id, group_id, value, actual_sum, target_sum, members, "
        "rank, previous_rank, gap_value, in_top, in_bottom) "
        f"SELECT {rs}, {ranking.pk}, z.gid, z.v, z.act, z.tgt, z.n, z.rnk, {'prev.rank' if previous else 'NULL'}, {gap}, "
        f"{top_n}, {bottom_n} FROM ("
        f"  SELECT g.gid, g.v, g.act, g.tgt, g.n, {function} OVER (ORDER BY g.v {best_first}{tail}) AS rnk, "
        f"  {function} OVER (ORDER BY g.v {worst_first}{tail}) AS brnk, MIN(g.v) OVER {frame} AS better_v "
        f"  FROM (SELECT gm.group_id AS gid, {value} AS v, SUM(b.act) AS act, SUM(b.tgt) AS tgt, COUNT(*) AS n "
        f"    FROM ({source_sql}) b {group_join} WHERE {where} GROUP BY gm.group_id) g "
        "  WHERE g.v IS NOT NULL"
        f") z {previous}",
        [*params, *group_params, *condition_params],
    )
