"""Step 1 of a recompute: each participant's figures per metric, as ONE row per participant.

``figures_select`` builds a SELECT with one row per active participant and, for every metric
``m`` asked for, the columns ``a_m`` (actual), ``t_m`` (target), ``b_m`` (base, for figures over
a base) and ``c_m`` (completion = actual ÷ target), rounded as they are stored. The score sheets
(``scoring.engine_sheets``) put them in arrays with the rule points; the phase rows are unpivoted
from it (``insert_phase_results``).

The day's facts are pivoted per subject first (one pass over the facts, one aggregate per metric),
then joined to the participants once: a national staff campaign joins 500,000 rows, not
5,000,000 (participant × metric) rows. Metrics of one indicator read point-in-time figures straight
from the facts; sums of indicators, ratios and period figures (daily averages, flows) are summed
per (subject, metric) first. Dates are literals (never user text), so a statement has no
positional parameters to keep in order.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from campaigns.models import ComponentRole, Figure, Phase, TargetPeriod
from scoring.engine_run import Run, T

POINT_FIGURES = {Figure.VALUE_AT_DATE, Figure.INCREASE_OVER_BASE, Figure.AS_DELIVERED, Figure.GROWTH_RATE}
BASE_FIGURES = {Figure.INCREASE_OVER_BASE, Figure.DAILY_AVERAGE_INCREASE, Figure.GROWTH_RATE}


@dataclass(frozen=True)
class TargetSource:
    """Which targets a period reads: the campaign's, a month's, or a phase's (else the campaign's × share)."""

    period: str
    start: datetime.date
    phase: Phase | None = None


def _fact_filters(run: Run, alias: str = "f") -> str:
    """The facts of the campaign's kind of subject only (a mixed campaign reads both kinds)."""
    if run.campaign.subject_kind is None:
        return "1 = 1"
    return f"{alias}.subject_kind = {int(run.campaign.subject_kind)}"


def _point_pivot(run: Run, metric_ids: list[int], last: datetime.date) -> tuple[str, dict[int, dict[str, str]]]:
    """One indicator per metric, point in time: MAX(value) FILTER (indicator, date) per metric."""
    from branches.models import Fact

    sql = run.sql
    base_day = run.start - datetime.timedelta(days=1)
    needs_base = any(run.metrics[m].figure in BASE_FIGURES for m in metric_ids)
    columns, names = [], {}
    indicators = set()
    # Reading one day only, the date needs no test per aggregate.
    on_last = f" AND f.business_date = {sql.date(last)}" if needs_base else ""
    for m in metric_ids:
        indicator, sign, _role = next(c for c in run.components[m] if c[2] == ComponentRole.TERM)
        indicators.add(indicator)
        columns.append(f"MAX(f.value) FILTER (WHERE f.indicator_id = {indicator}{on_last}) AS e_{m}")
        names[m] = {"end": f"fp.e_{m}" if sign == 1 else f"(-fp.e_{m})"}
        if run.metrics[m].figure in BASE_FIGURES:
            columns.append(
                f"MAX(f.value) FILTER (WHERE f.indicator_id = {indicator} AND f.business_date = {sql.date(base_day)}) AS vb_{m}"
            )
            names[m]["base"] = f"fp.vb_{m}" if sign == 1 else f"(-fp.vb_{m})"
    days = [last, base_day] if needs_base else [last]
    pivot = (
        f"SELECT f.subject_kind, f.subject_id, {', '.join(columns)} FROM {T(Fact)} f "
        f"WHERE f.indicator_id IN ({', '.join(str(i) for i in sorted(indicators))}) "
        f"AND f.business_date IN ({', '.join(sql.date(d) for d in days)}) AND {_fact_filters(run)} "
        "GROUP BY f.subject_kind, f.subject_id"
    )
    return pivot, names


def _component_ids(metric_ids: list[int]) -> str:
    return f"SELECT indicator_id FROM campaigns_metriccomponent WHERE metric_id IN ({', '.join(str(m) for m in metric_ids)})"


def _point_rows(run: Run, metric_ids: list[int], last: datetime.date) -> str:
    """(subject, metric) rows of point-in-time metrics summed over several indicators (signs ±1)."""
    from branches.models import Fact

    sql = run.sql
    base_day = run.start - datetime.timedelta(days=1)
    ids = ", ".join(str(m) for m in metric_ids)
    signed = "c.sign * f.value"
    return (
        f"SELECT f.subject_kind, f.subject_id, c.metric_id, "
        f"SUM(CASE WHEN f.business_date = {sql.date(last)} THEN {signed} END) AS v_end, "
        f"SUM(CASE WHEN f.business_date = {sql.date(base_day)} THEN {signed} END) AS v_base, "
        f"{sql.num('NULL')} AS v_sum, {sql.num('NULL')} AS v_num, {sql.num('NULL')} AS v_den, {sql.num('NULL')} AS v_carry "
        f"FROM {T(Fact)} f JOIN campaigns_metriccomponent c ON c.indicator_id = f.indicator_id "
        f"WHERE c.metric_id IN ({ids}) AND {_fact_filters(run)} "
        f"AND f.business_date IN ({sql.date(base_day)}, {sql.date(last)}) "
        "GROUP BY f.subject_kind, f.subject_id, c.metric_id"
    )


def _period_rows(run: Run, metric_ids: list[int], first: datetime.date, last: datetime.date) -> str:
    """(subject, metric) sums over [first, last] for daily averages, flows and ratios of sums.

    Each fact row is added once, per indicator, with no expression per row (a period is millions
    of facts); the components' signs and roles are applied to those sums afterwards. The base day's
    figure is read only when an increase over it is scored: March reads March and the base day,
    not every day since the base.
    """
    from branches.models import Fact

    sql = run.sql
    ids = ", ".join(str(m) for m in metric_ids)
    if any(run.metrics[m].figure in BASE_FIGURES for m in metric_ids):
        base_day = run.start - datetime.timedelta(days=1)
        period_sum = f"SUM(CASE WHEN f.business_date >= {sql.date(first)} THEN f.value END)"
        base_sum = f"SUM(CASE WHEN f.business_date = {sql.date(base_day)} THEN f.value END)"
        dates = (
            f"(f.business_date BETWEEN {sql.date(first)} AND {sql.date(last)} OR f.business_date = {sql.date(base_day)})"
        )
    else:
        period_sum, base_sum = "SUM(f.value)", sql.num("NULL")
        dates = f"f.business_date BETWEEN {sql.date(first)} AND {sql.date(last)}"
    per_indicator = (
        f"SELECT f.subject_kind, f.subject_id, f.indicator_id, {period_sum} AS s_period, {base_sum} AS s_base "
        f"FROM {T(Fact)} f WHERE f.indicator_id IN ({_component_ids(metric_ids)}) AND {_fact_filters(run)} AND {dates} "
        "GROUP BY f.subject_kind, f.subject_id, f.indicator_id"
    )
    return (
        f"SELECT f.subject_kind, f.subject_id, c.metric_id, {sql.num('NULL')} AS v_end, "
        f"SUM(CASE WHEN c.role = '{ComponentRole.TERM}' THEN c.sign * f.s_base END) AS v_base, "
        f"SUM(CASE WHEN c.role = '{ComponentRole.TERM}' THEN c.sign * f.s_period END) AS v_sum, "
        f"SUM(CASE WHEN c.role = '{ComponentRole.NUMERATOR}' THEN c.sign * f.s_period END) AS v_num, "
        f"SUM(CASE WHEN c.role = '{ComponentRole.DENOMINATOR}' THEN c.sign * f.s_period END) AS v_den, "
        f"{sql.num('NULL')} AS v_carry "
        f"FROM ({per_indicator}) f JOIN campaigns_metriccomponent c ON c.indicator_id = f.indicator_id "
        f"WHERE c.metric_id IN ({ids}) GROUP BY f.subject_kind, f.subject_id, c.metric_id"
    )


def _carried_rows(run: Run, metric_ids: list[int], first: datetime.date, last: datetime.date) -> str:
    """Period sums where a missing day repeats the last known balance (option carry_forward_balances):
    each fact counts for the days until the subject's next fact, or the period's end."""
    from branches.models import Fact

    sql = run.sql
    ids = ", ".join(str(m) for m in metric_ids)
    base_day = run.start - datetime.timedelta(days=1)
    after = last + datetime.timedelta(days=1)
    signed = "c.sign * f.value"
    until = f"(CASE WHEN f.next_date IS NULL OR f.next_date > {sql.date(after)} THEN {sql.date(after)} ELSE f.next_date END)"
    since = f"(CASE WHEN f.business_date < {sql.date(first)} THEN {sql.date(first)} ELSE f.business_date END)"
    source = (
        "(SELECT f0.indicator_id, f0.subject_kind, f0.subject_id, f0.business_date, f0.value, "
        "LEAD(f0.business_date) OVER (PARTITION BY f0.indicator_id, f0.subject_kind, f0.subject_id "
        f"ORDER BY f0.business_date) AS next_date FROM {T(Fact)} f0 "
        f"WHERE f0.indicator_id IN ({_component_ids(metric_ids)}) "
        f"AND f0.business_date BETWEEN {sql.date(min(base_day, first))} AND {sql.date(last)})"
    )
    term = f"c.role = '{ComponentRole.TERM}'"
    return (
        f"SELECT f.subject_kind, f.subject_id, c.metric_id, "
        f"SUM(CASE WHEN {term} AND f.business_date = {sql.date(last)} THEN {signed} END) AS v_end, "
        f"SUM(CASE WHEN {term} AND f.business_date = {sql.date(base_day)} THEN {signed} END) AS v_base, "
        f"SUM(CASE WHEN {term} AND f.business_date >= {sql.date(first)} THEN {signed} END) AS v_sum, "
        f"SUM(CASE WHEN c.role = '{ComponentRole.NUMERATOR}' AND f.business_date >= {sql.date(first)} THEN {signed} END) AS v_num, "
        f"SUM(CASE WHEN c.role = '{ComponentRole.DENOMINATOR}' AND f.business_date >= {sql.date(first)} THEN {signed} END) AS v_den, "
        f"SUM(CASE WHEN {term} AND {until} > {since} THEN {signed} * {sql.days_between(until, since)} END) AS v_carry "
        f"FROM {source} f JOIN campaigns_metriccomponent c ON c.indicator_id = f.indicator_id "
        f"WHERE c.metric_id IN ({ids}) AND {_fact_filters(run)} "
        f"AND f.business_date BETWEEN {sql.date(min(base_day, first))} AND {sql.date(last)} "
        "GROUP BY f.subject_kind, f.subject_id, c.metric_id"
    )


def _rows_pivot(run: Run, metric_ids: list[int], rows: list[str]) -> tuple[str, dict[int, dict[str, str]]]:
    """Pivot (subject, metric) rows to one row per subject: one aggregate per metric and figure part."""
    columns, names = [], {}
    for m in metric_ids:
        names[m] = {}
        for part in ("end", "base", "sum", "num", "den", "carry"):
            columns.append(f"MAX(x.v_{part}) FILTER (WHERE x.metric_id = {m}) AS {part}_{m}")
            names[m][part] = f"fx.{part}_{m}"
    pivot = (
        f"SELECT x.subject_kind, x.subject_id, {', '.join(columns)} "
        f"FROM ({' UNION ALL '.join(rows)}) x GROUP BY x.subject_kind, x.subject_id"
    )
    return pivot, names


def _target_pivot(run: Run, metric_ids: list[int], source: TargetSource) -> tuple[str, dict[int, dict[str, str]]]:
    """The period's targets and base values, one row per participant (a phase's own target, else
    the campaign target × the phase's share: 节奏安排)."""
    sql = run.sql
    ids = ", ".join(str(m) for m in metric_ids)
    columns, names = [], {}
    if source.phase is None:
        where = f"t.period = '{source.period}' AND t.period_start = {sql.date(source.start)}"
        for m in metric_ids:
            columns.append(f"MAX(t.target_value) FILTER (WHERE t.metric_id = {m}) AS t_{m}")
            names[m] = {"target": f"tp.t_{m}", "base": "NULL"}
            # A target's base value only matters to a figure over a base.
            if run.metrics[m].figure in BASE_FIGURES:
                columns.append(f"MAX(t.base_value) FILTER (WHERE t.metric_id = {m}) AS tb_{m}")
                names[m]["base"] = f"tp.tb_{m}"
    else:
        own = f"t.period = '{TargetPeriod.PHASE}' AND t.period_start = {sql.date(source.phase.start_date)}"
        whole = f"t.period = '{TargetPeriod.CAMPAIGN}' AND t.period_start = {sql.date(run.start)}"
        where = f"(({own}) OR ({whole}))"
        share = sql.lit(source.phase.target_share) if source.phase.target_share else "NULL"
        for m in metric_ids:
            columns += [
                f"MAX(t.target_value) FILTER (WHERE t.metric_id = {m} AND {own}) AS t_{m}",
                f"MAX(t.target_value) FILTER (WHERE t.metric_id = {m} AND {whole}) AS tc_{m}",
                f"MAX(t.base_value) FILTER (WHERE t.metric_id = {m} AND {own}) AS tb_{m}",
                f"MAX(t.base_value) FILTER (WHERE t.metric_id = {m} AND {whole}) AS tcb_{m}",
            ]
            names[m] = {
                "target": f"COALESCE(tp.t_{m}, tp.tc_{m} * {share})",
                "base": f"COALESCE(tp.tb_{m}, tp.tcb_{m})",
            }
    pivot = (
        f"SELECT t.participant_id, {', '.join(columns)} FROM campaigns_target t "
        f"WHERE t.campaign_id = {int(run.campaign.pk)} AND t.metric_id IN ({ids}) AND {where} "
        "GROUP BY t.participant_id"
    )
    return pivot, names


def figures_select(
    run: Run, metric_ids: list[int], first: datetime.date, last: datetime.date, targets: TargetSource, *, rounded: bool = True
) -> str:
    """SELECT pid, pkind, punit and a_m, t_m, b_m, c_m for each metric m: one row per participant
    taking part in the period (active on the day, and joined by the period's last day).

    Facts are summed through the metric's components (sign ±1), so a metric can be the sum of
    several indicators or a ratio of two sums. The automatic base (when a target has none) is the
    figure on the day before the campaign starts. ``rounded``: figures as stored (6 decimals);
    false gives them exact, for rules to compare (0.96999996 is below a bar of 97 %) — the sheets
    round them when they store them.
    """
    sql = run.sql
    days = (last - first).days + 1
    point = [m for m in metric_ids if run.metrics[m].figure in POINT_FIGURES]
    single = [m for m in point if run.single_indicator(m)]
    multi = [m for m in point if not run.single_indicator(m)]
    ranged = [m for m in metric_ids if run.metrics[m].figure not in POINT_FIGURES]
    carry = bool(run.campaign.options.get("carry_forward_balances", False))
    joins, parts = [], {m: {} for m in metric_ids}
    if single:
        pivot, names = _point_pivot(run, single, last)
        joins.append(f"LEFT JOIN ({pivot}) fp ON fp.subject_kind = p.subject_kind AND fp.subject_id = p.subject_id")
        for m in single:
            parts[m].update(names[m])
    rows = []
    if multi:
        rows.append(_point_rows(run, multi, last))
    if ranged:
        rows.append(_carried_rows(run, ranged, first, last) if carry else _period_rows(run, ranged, first, last))
    if rows:
        pivot, names = _rows_pivot(run, multi + ranged, rows)
        joins.append(f"LEFT JOIN ({pivot}) fx ON fx.subject_kind = p.subject_kind AND fx.subject_id = p.subject_id")
        for m in multi + ranged:
            parts[m].update(names[m])
    pivot, target_names = _target_pivot(run, metric_ids, targets)
    joins.append(f"LEFT JOIN ({pivot}) tp ON tp.participant_id = p.id")

    raw = []
    for m in metric_ids:
        v = parts[m]
        figure = run.metrics[m].figure
        base = f"COALESCE({target_names[m]['base']}, {v.get('base', 'NULL')}, 0)"
        end = v.get("end", "NULL")
        total = v.get("sum", "NULL")
        average = sql.div(v["carry"] if carry and "carry" in v else total, str(days))
        actual = {
            Figure.VALUE_AT_DATE: end,
            Figure.AS_DELIVERED: end,
            Figure.INCREASE_OVER_BASE: f"{end} - {base}",
            Figure.DAILY_AVERAGE: average,
            Figure.DAILY_AVERAGE_INCREASE: f"{average} - {base}",
            Figure.FLOW_SUM: total,
            Figure.RATIO_OF_SUMS: sql.div(v.get("num", "NULL"), v.get("den", "NULL")),
            Figure.GROWTH_RATE: sql.div(f"{end} - {base}", base),
        }[figure]
        raw += [f"{actual} AS ra_{m}", f"{target_names[m]['target']} AS rt_{m}"]
        if figure in BASE_FIGURES:
            raw.append(f"{base} AS rb_{m}")
    inner = (
        f"SELECT p.id AS pid, p.subject_kind AS pkind, p.unit_id AS punit, {', '.join(raw)} "
        f"FROM campaigns_participant p {' '.join(joins)} WHERE {run.active_where('p')} "
        # A participant who joins mid-way has no rows for the months before (they do not count in averages).
        f"AND (p.joined_on IS NULL OR p.joined_on <= {sql.date(last)}) {sql.fence}"
    )
    keep = sql.figure if rounded else (lambda expr: expr)
    out = []
    for m in metric_ids:
        shown_base = f"r.rb_{m}" if run.metrics[m].figure in BASE_FIGURES else "NULL"
        completion = f"CASE WHEN r.rt_{m} > 0 THEN {sql.div(f'r.ra_{m}', f'r.rt_{m}')} END"
        out += [
            f"{keep(f'r.ra_{m}')} AS a_{m}",
            f"{keep(f'r.rt_{m}')} AS t_{m}",
            f"{keep(shown_base)} AS b_{m}",
            f"{keep(completion)} AS c_{m}",
        ]
    return f"SELECT r.pid, r.pkind, r.punit, {', '.join(out)} FROM ({inner}) r"


def insert_phase_results(run: Run, metric_ids: list[int]) -> None:
    """PhaseResult rows (one per participant, metric and begun phase): each phase's actual so far
    against the phase's target."""
    from scoring.models import PhaseResult

    for phase in run.begun_phases:
        last = min(run.day, phase.end_date)
        figures = figures_select(run, metric_ids, phase.start_date, last, TargetSource(TargetPeriod.PHASE, phase.start_date, phase))
        selects = " UNION ALL ".join(
            f"SELECT {run.rs}, w.pid, {m}, {run.sql.date(phase.start_date)}, {int(phase.pk)}, w.a_{m}, w.t_{m}, w.b_{m}, w.c_{m} FROM w"
            for m in metric_ids
        )
        run.execute(
            f"WITH w AS ({figures}) INSERT INTO {T(PhaseResult)} "
            "(result_set_id, participant_id, metric_id, period_start, phase_id, actual, target, base, completion) "
            f"{selects}"
        )
