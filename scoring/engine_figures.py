"""Step 1 of a recompute: each participant's figures per metric (and per month and phase where a
rule or ranking needs them), with targets and completion rates, into MetricResult / PhaseResult.

Split from ``scoring.engine`` (which runs the steps in order); every statement is one
``INSERT … SELECT`` over facts, components and targets.
"""

from __future__ import annotations

import datetime

from campaigns.models import Figure, Phase, TargetPeriod
from scoring.engine_run import Run, T, month_periods
from scoring.models import Evaluation, MetricResult, PhaseResult

POINT_FIGURES = {Figure.VALUE_AT_DATE, Figure.INCREASE_OVER_BASE, Figure.AS_DELIVERED, Figure.GROWTH_RATE}
BASE_FIGURES = {Figure.INCREASE_OVER_BASE, Figure.DAILY_AVERAGE_INCREASE, Figure.GROWTH_RATE}


# --- Figures --------------------------------------------------------------------------------


def compute_metric_results(run: Run) -> None:
    metrics = list(run.metrics.values())
    if not metrics:
        return
    monthly_metric_ids = {r.metric_id for r in run.rules if r.evaluation == Evaluation.MONTHLY and r.metric_id}
    monthly_metric_ids |= _period_metric_ids(run, "month")
    phase_metric_ids = _period_metric_ids(run, "phase")
    periods = [(run.start, run.period_end, TargetPeriod.CAMPAIGN, [m.pk for m in metrics], None)]
    if monthly_metric_ids:
        for first, last in month_periods(run.start, run.campaign.end_date, run.day):
            periods.append((first, last, TargetPeriod.MONTH, sorted(monthly_metric_ids), None))
    if phase_metric_ids:
        for phase in run.begun_phases:
            last = min(run.day, phase.end_date)
            periods.append((phase.start_date, last, TargetPeriod.PHASE, sorted(phase_metric_ids), phase))
    for first, last, target_period, metric_ids, phase in periods:
        point = [i for i in metric_ids if run.metrics[i].figure in POINT_FIGURES]
        ranged = [i for i in metric_ids if run.metrics[i].figure not in POINT_FIGURES]
        single = [i for i in point if run.single_indicator(i)]
        multi = [i for i in point if not run.single_indicator(i)]
        if single:
            _insert_figures(run, single, first, last, target_period, ranged_scan=False, single=True, phase=phase)
        if multi:
            _insert_figures(run, multi, first, last, target_period, ranged_scan=False, phase=phase)
        if ranged:
            _insert_figures(run, ranged, first, last, target_period, ranged_scan=True, phase=phase)


def _period_sums(run: Run, metric_ids: list[int], first, last, kind_filter: str) -> tuple[str, list]:
    """Sums over [first, last] per (subject, metric), for daily averages, flows and ratios of sums.

    Each fact row is added once, per indicator, with no expression per row (a period is millions
    of facts); the components' signs and roles are applied to those sums afterwards. The base day's
    figure is read only when an increase over it is scored.
    """
    from branches.models import Fact

    sql = run.sql
    ids = ", ".join(str(int(i)) for i in metric_ids)
    if any(run.metrics[i].figure in BASE_FIGURES for i in metric_ids):
        base_day = run.start - datetime.timedelta(days=1)
        period_sum = "SUM(CASE WHEN f.business_date >= %s THEN f.value END)"
        base_sum = "SUM(CASE WHEN f.business_date = %s THEN f.value END)"
        # March reads March and the base day, not every day since the base (one partition each).
        dates, params = "(f.business_date BETWEEN %s AND %s OR f.business_date = %s)", [first, base_day, first, last, base_day]
    else:
        period_sum, base_sum = "SUM(f.value)", sql.num("NULL")
        dates, params = "f.business_date BETWEEN %s AND %s", [first, last]
    per_indicator = (
        f"SELECT f.subject_kind, f.subject_id, f.indicator_id, {period_sum} AS s_period, {base_sum} AS s_base "
        f"FROM {T(Fact)} f "
        f"WHERE f.indicator_id IN (SELECT indicator_id FROM campaigns_metriccomponent WHERE metric_id IN ({ids})) "
        f"AND {kind_filter} AND {dates} "
        "GROUP BY f.subject_kind, f.subject_id, f.indicator_id"
    )
    facts = (
        f"SELECT f.subject_kind, f.subject_id, c.metric_id, {sql.num('NULL')} AS v_end, "
        "SUM(CASE WHEN c.role = 'term' THEN c.sign * f.s_base END) AS v_base, "
        "SUM(CASE WHEN c.role = 'term' THEN c.sign * f.s_period END) AS v_sum, "
        "SUM(CASE WHEN c.role = 'numerator' THEN c.sign * f.s_period END) AS v_num, "
        "SUM(CASE WHEN c.role = 'denominator' THEN c.sign * f.s_period END) AS v_den "
        f"FROM ({per_indicator}) f JOIN campaigns_metriccomponent c ON c.indicator_id = f.indicator_id "
        f"WHERE c.metric_id IN ({ids}) GROUP BY f.subject_kind, f.subject_id, c.metric_id"
    )
    return facts, params


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


def _insert_figures(
    run, metric_ids, first, last, target_period, *, ranged_scan: bool, single: bool = False, phase: Phase | None = None
) -> None:
    """One INSERT … SELECT of (participant × metric) figures, targets and completion rates.

    Facts are summed through the metric's components (sign ±1), so a metric can be the sum of
    several indicators or a ratio of two sums. The automatic base (when a target has none) is
    the figure on the day before the campaign starts. ``single``: point-in-time metrics of one
    indicator each join the day's fact directly, with no aggregation (the common, largest case).
    """
    from branches.models import Fact  # the organisation's figures (read-only here)

    sql = run.sql
    base_day = run.start - datetime.timedelta(days=1)
    days = (last - first).days + 1
    ids = ", ".join(str(int(i)) for i in metric_ids)
    # A mixed campaign joins each participant's own kind of facts; otherwise one constant kind
    # keeps the fact index's equality prefix.
    kind = str(int(run.campaign.subject_kind)) if run.campaign.subject_kind is not None else "p.subject_kind"
    signed = "c.sign * f.value"
    if single:
        figures_join = (
            "LEFT JOIN campaigns_metriccomponent c ON c.metric_id = m.id AND c.role = 'term' "
            f"LEFT JOIN {T(Fact)} f ON f.indicator_id = c.indicator_id AND f.subject_kind = {kind} "
            "  AND f.subject_id = p.subject_id AND f.business_date = %s "
        )
        figures_params = [last]
        v = {"end": "(c.sign * f.value)", "base": "NULL", "sum": "NULL", "num": "NULL", "den": "NULL"}
        # The day before the campaign is read only when a figure is an increase over that base:
        # a join that finds nothing still costs a sort of every (participant, metric) row.
        if any(run.metrics[i].figure in BASE_FIGURES for i in metric_ids):
            figures_join += (
                f"LEFT JOIN {T(Fact)} fb ON fb.indicator_id = c.indicator_id AND fb.subject_kind = {kind} "
                "  AND fb.subject_id = p.subject_id AND fb.business_date = %s "
            )
            figures_params.append(base_day)
            v["base"] = "(c.sign * fb.value)"
    else:
        carry = False
        kind_filter = "1 = 1" if kind == "p.subject_kind" else f"f.subject_kind = {kind}"
        if ranged_scan:
            date_filter, date_params = "f.business_date BETWEEN %s AND %s", [min(base_day, first), last]
            sums = (
                f"SUM(CASE WHEN c.role = 'term' AND f.business_date = %s THEN {signed} END) AS v_end, "
                f"SUM(CASE WHEN c.role = 'term' AND f.business_date = %s THEN {signed} END) AS v_base, "
                f"SUM(CASE WHEN c.role = 'term' AND f.business_date >= %s THEN {signed} END) AS v_sum, "
                f"SUM(CASE WHEN c.role = 'numerator' AND f.business_date >= %s THEN {signed} END) AS v_num, "
                f"SUM(CASE WHEN c.role = 'denominator' AND f.business_date >= %s THEN {signed} END) AS v_den "
            )
            sums_params = [last, base_day, first, first, first]
            carry = bool(run.campaign.options.get("carry_forward_balances", False))
            if carry:
                # Each fact counts for the days until the subject's next fact (or the period's end):
                # a missing day repeats the last known balance instead of counting as 0.
                until = "(CASE WHEN f.next_date IS NULL OR f.next_date > %s THEN %s ELSE f.next_date END)"
                since = "(CASE WHEN f.business_date < %s THEN %s ELSE f.business_date END)"
                sums += (
                    f", SUM(CASE WHEN c.role = 'term' AND {until} > {since} "
                    f"THEN {signed} * {sql.days_between(until, since)} END) AS v_carry "
                )
                after = last + datetime.timedelta(days=1)
                sums_params += [after, after, first, first, after, after, first, first]
        else:
            date_filter, date_params = "f.business_date IN (%s, %s)", [base_day, last]
            sums = (
                f"SUM(CASE WHEN f.business_date = %s THEN {signed} END) AS v_end, "
                f"SUM(CASE WHEN f.business_date = %s THEN {signed} END) AS v_base, "
                f"{sql.num('NULL')} AS v_sum, {sql.num('NULL')} AS v_num, {sql.num('NULL')} AS v_den "
            )
            sums_params = [last, base_day]
        source = T(Fact)
        if ranged_scan and carry:
            source = (
                "(SELECT f0.indicator_id, f0.subject_kind, f0.subject_id, f0.business_date, f0.value, "
                "LEAD(f0.business_date) OVER (PARTITION BY f0.indicator_id, f0.subject_kind, f0.subject_id "
                f"ORDER BY f0.business_date) AS next_date FROM {T(Fact)} f0 "
                f"WHERE f0.indicator_id IN (SELECT indicator_id FROM campaigns_metriccomponent WHERE metric_id IN ({ids})) "
                "AND f0.business_date BETWEEN %s AND %s)"
            )
        facts = (
            f"SELECT f.subject_kind, f.subject_id, c.metric_id, {sums}"
            f"FROM {source} f JOIN campaigns_metriccomponent c ON c.indicator_id = f.indicator_id "
            f"WHERE c.metric_id IN ({ids}) AND {kind_filter} AND {date_filter} "
            "GROUP BY f.subject_kind, f.subject_id, c.metric_id"
        )
        source_params = date_params if ranged_scan and carry else []
        figures_params = [*sums_params, *source_params, *date_params]
        if ranged_scan and not carry:
            facts, figures_params = _period_sums(run, metric_ids, first, last, kind_filter)
        figures_join = (
            f"LEFT JOIN ({facts}) x ON x.subject_kind = p.subject_kind AND x.subject_id = p.subject_id AND x.metric_id = m.id "
        )
        v = {"end": "x.v_end", "base": "x.v_base", "sum": "x.v_sum", "num": "x.v_num", "den": "x.v_den"}
        if ranged_scan and carry:
            v["average_sum"] = "x.v_carry"
    if phase is None:
        # The campaign's own targets only: without it the join reads (and sorts) every campaign's.
        target_join = (
            f"LEFT JOIN campaigns_target t ON t.campaign_id = {int(run.campaign.pk)} "
            "     AND t.participant_id = p.id AND t.metric_id = m.id AND t.period = %s AND t.period_start = %s "
        )
        target_params = [target_period, first]
        target, base_value = "t.target_value", "t.base_value"
    else:
        # A phase's own target, else the campaign target × the phase's share (节奏安排).
        target_join = (
            f"LEFT JOIN campaigns_target t ON t.campaign_id = {int(run.campaign.pk)} "
            "     AND t.participant_id = p.id AND t.metric_id = m.id AND t.period = %s AND t.period_start = %s "
            f"LEFT JOIN campaigns_target tc ON tc.campaign_id = {int(run.campaign.pk)} "
            "     AND tc.participant_id = p.id AND tc.metric_id = m.id AND tc.period = %s AND tc.period_start = %s "
        )
        target_params = [TargetPeriod.PHASE, phase.start_date, TargetPeriod.CAMPAIGN, run.start]
        share = sql.lit(phase.target_share) if phase.target_share else "NULL"
        target, base_value = f"COALESCE(t.target_value, tc.target_value * {share})", "COALESCE(t.base_value, tc.base_value)"
    base = f"COALESCE({base_value}, {v['base']}, 0)"
    average = sql.div(v.get("average_sum", v["sum"]), str(days))
    growth = sql.div(f"{v['end']} - {base}", base)
    actual = (
        "CASE m.figure "
        f"WHEN '{Figure.VALUE_AT_DATE}' THEN {v['end']} "
        f"WHEN '{Figure.AS_DELIVERED}' THEN {v['end']} "
        f"WHEN '{Figure.INCREASE_OVER_BASE}' THEN {v['end']} - {base} "
        f"WHEN '{Figure.DAILY_AVERAGE}' THEN {average} "
        f"WHEN '{Figure.DAILY_AVERAGE_INCREASE}' THEN {average} - {base} "
        f"WHEN '{Figure.FLOW_SUM}' THEN {v['sum']} "
        f"WHEN '{Figure.RATIO_OF_SUMS}' THEN {sql.div(v['num'], v['den'])} "
        f"WHEN '{Figure.GROWTH_RATE}' THEN {growth} END"
    )
    shown_base = f"CASE WHEN m.figure IN ({', '.join(repr(str(f)) for f in sorted(BASE_FIGURES))}) THEN {base} END"
    where, where_params = run.active_participants()
    if phase is None:
        into = f"{T(MetricResult)} (result_set_id, participant_id, metric_id, period_start, monthly, "
        head = f"{run.rs}, y.pid, y.mid, %s, {'TRUE' if target_period == TargetPeriod.MONTH else 'FALSE'}, "
    else:
        into = f"{T(PhaseResult)} (result_set_id, participant_id, metric_id, period_start, phase_id, "
        head = f"{run.rs}, y.pid, y.mid, %s, {int(phase.pk)}, "
    run.execute(
        f"INSERT INTO {into}actual, target, base, completion) "
        f"SELECT {head}y.actual, "
        f"y.target, y.base, CASE WHEN y.target > 0 THEN {sql.div('y.actual', 'y.target')} END "
        "FROM ("
        f"  SELECT p.id AS pid, m.id AS mid, {actual} AS actual, {target} AS target, {shown_base} AS base "
        "  FROM campaigns_participant p "
        "  CROSS JOIN campaigns_metric m "
        f"  {figures_join}"
        f"  {target_join}"
        f"  WHERE m.id IN ({ids}) AND {where}"
        # Rows in key order: each lands on the key's rightmost leaf, which PostgreSQL appends to
        # without descending the tree.
        ") y ORDER BY y.pid, y.mid",
        [first, *figures_params, *target_params, *where_params],
    )
