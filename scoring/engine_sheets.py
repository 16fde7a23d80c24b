"""Steps 1–3 of a recompute in one statement per period: figures, rule points and totals → ScoreSheet.

For a period (the campaign so far, or one month) ``insert_sheet`` wraps the figures of
``scoring.engine_figures`` in layers, each computed once per participant row:

1. figures per metric (``a_m``, ``t_m``, ``b_m``, ``c_m``), with the participant's groups for
   relative-to-best rules, the unit for rules limited to some participants, and on the campaign
   row the months' points of monthly rules;
2. the best in the group (a window MAX) for each relative-to-best rule;
3. each rule's points (None where the rule does not score the participant), parts summed into
   their parent, the total, base and bonus points and "met every target";

and writes one row per participant with the figures and points in arrays, positioned by the
result set's layout. Rule kinds give their SQL (``scoring.rules``), applied here.
"""

from __future__ import annotations

import datetime

from campaigns.models import Figure, TargetPeriod
from scoring.engine_figures import BASE_FIGURES, TargetSource, figures_select
from scoring.engine_run import Run, T
from scoring.models import Evaluation, MonthlyCombine, RuleKind, ScoreSheet, ScoringRule
from scoring.rules import Cols

QUOTIENT_FIGURES = {Figure.DAILY_AVERAGE, Figure.DAILY_AVERAGE_INCREASE, Figure.RATIO_OF_SUMS, Figure.GROWTH_RATE}


def _applies(run: Run, rule: ScoringRule) -> str:
    """Condition under which ``rule`` scores the participant of row ``f`` ("" = everybody)."""
    return run.participant_condition(rule.participants, "f.pkind", "u")


def _month_combine(run: Run, rule: ScoringRule, last_month: datetime.date) -> tuple[str, str]:
    """(points, months) aggregates over the month rows ``s`` of a monthly rule: the quarter's
    result as the average of the months, the last month, or full points only if every month had them."""
    sql = run.sql
    x = sql.at("s.points", run.position("month_rules", rule.pk))
    count = f"COUNT({x})"
    if rule.monthly_combine == MonthlyCombine.LAST:
        combined = f"MAX(CASE WHEN s.period_start = {sql.date(last_month)} THEN {x} END)"
    elif rule.monthly_combine == MonthlyCombine.ALL_PASS:
        full = sql.lit(rule.points)
        combined = f"CASE WHEN {count} = 0 THEN NULL WHEN MIN({x}) >= {full} THEN {full} ELSE 0 END"
    else:
        combined = f"CASE WHEN {count} > 0 THEN {sql.num(f'SUM({x})')} / {count} END"
    return combined, count


def insert_sheet(
    run: Run,
    *,
    first: datetime.date,
    last: datetime.date,
    monthly: bool,
    last_month: datetime.date | None = None,
) -> int:
    """Write the score sheets of one period; returns the number of participants written.

    ``monthly`` false: the campaign period with every metric and rule (monthly rules combined from
    the month rows already written, parts summed) and the totals; true: the month starting ``first``
    with the month's metrics and the monthly rules.
    """
    sql = run.sql
    metrics_key, rules_key = ("month_metrics", "month_rules") if monthly else ("metrics", "rules")
    metric_ids = run.layout[metrics_key]
    rule_ids = run.layout[rules_key]
    if not metric_ids and not rule_ids:
        return 0
    rules = {r.pk: r for r in run.rules}
    # A month's target is kept on the month's first day, also when the campaign starts mid-month.
    targets = TargetSource(TargetPeriod.MONTH, first.replace(day=1)) if monthly else TargetSource(TargetPeriod.CAMPAIGN, first)
    figures = figures_select(run, metric_ids, first, last, targets, rounded=False) if metric_ids else (
        f"SELECT p.id AS pid, p.subject_kind AS pkind, p.unit_id AS punit FROM campaigns_participant p "
        f"WHERE {run.active_where('p')}"
    )

    # Which rules this row computes from its figures, which it takes from the months, which sum parts.
    def computed_here(rule: ScoringRule) -> bool:
        if rule.kind == RuleKind.PARTS:
            return False
        return monthly or rule.evaluation == Evaluation.CUMULATIVE

    # 1. figures, groups, unit, month points
    joins, extra = [], []
    group_sets = sorted({rules[i].group_set_id for i in rule_ids if computed_here(rules[i])
                         and rules[i].kind == RuleKind.RELATIVE_TO_BEST and rules[i].group_set_id})
    for gs in group_sets:
        joins.append(
            f"LEFT JOIN campaigns_groupmembership gm{gs} ON gm{gs}.participant_id = f.pid AND gm{gs}.group_set_id = {int(gs)}"
        )
        extra.append(f"gm{gs}.group_id AS g{gs}")
    conditions = {i: _applies(run, rules[i]) for i in rule_ids}
    if any(conditions.values()):
        from branches.models import Unit

        joins.append(f"LEFT JOIN {T(Unit)} u ON u.id = f.punit")
    for i, condition in conditions.items():
        if condition:
            extra.append(f"CASE WHEN {condition} THEN 1 ELSE 0 END AS w{i}")
    combined = [i for i in rule_ids if not monthly and rules[i].kind != RuleKind.PARTS
                and rules[i].evaluation == Evaluation.MONTHLY]
    if combined:
        aggregates = []
        for i in combined:
            points, months = _month_combine(run, rules[i], last_month or first)
            aggregates += [f"{points} AS mp{i}", f"{months} AS mn{i}"]
        joins.append(
            f"LEFT JOIN (SELECT s.participant_id, {', '.join(aggregates)} FROM {T(ScoreSheet)} s "
            f"WHERE s.result_set_id = {run.rs} AND s.monthly = TRUE GROUP BY s.participant_id) mm ON mm.participant_id = f.pid"
        )
        extra += [f"mm.mp{i}", f"mm.mn{i}"]
    layer1 = f"SELECT f.*{''.join(', ' + e for e in extra)} FROM ({figures}) f {' '.join(joins)} {sql.fence}"

    def applies(i: int) -> str:
        return f"x.w{i} = 1" if conditions[i] else ""

    # 2. bests of relative-to-best rules, among the participants each rule scores
    bests = []
    for i in rule_ids:
        rule = rules[i]
        if not computed_here(rule) or rule.kind != RuleKind.RELATIVE_TO_BEST:
            continue
        value = f"x.c_{rule.metric_id}" if rule.rule_kind().params["on"] == "completion" else f"x.a_{rule.metric_id}"
        if applies(i):
            value = f"CASE WHEN {applies(i)} THEN {value} END"
        window = f"PARTITION BY x.g{rule.group_set_id}" if rule.group_set_id else ""
        bests.append(f"MAX({value}) OVER ({window}) AS best{i}")
    layer2 = f"SELECT x.*{''.join(', ' + b for b in bests)} FROM ({layer1}) x {sql.fence}"

    # 3. points of each rule computed from figures or months (None where it does not score)
    points: dict[int, str] = {}
    references: dict[int, str] = {}
    for i in rule_ids:
        rule = rules[i]
        if rule.kind == RuleKind.PARTS:
            continue
        if computed_here(rule):
            m = rule.metric_id
            col = Cols(actual=f"x.a_{m}", target=f"x.t_{m}", completion=f"x.c_{m}", best=f"x.best{i}")
            expr = sql.points(rule.rule_kind().points_sql(sql, col))
            if rule.kind == RuleKind.RELATIVE_TO_BEST:
                references[i] = sql.figure(f"z.best{i}")
        else:
            expr = sql.points(f"x.mp{i}")
            references[i] = f"z.mn{i}"
        points[i] = f"CASE WHEN {applies(i)} THEN {expr} END" if applies(i) else expr
    layer3 = f"SELECT x.*{''.join(f', {e} AS p{i}' for i, e in points.items())} FROM ({layer2}) x {sql.fence}"

    # 4. parts summed into their parent (None when no part scores the participant), then the row
    def part_sum(rule_id: int) -> str:
        terms = [part_sum(r.pk) if r.kind == RuleKind.PARTS else f"z.p{r.pk}" for r in run.rules if r.parent_id == rule_id]
        if not terms:
            return "NULL"
        none = " AND ".join(f"{t} IS NULL" for t in terms)
        return f"(CASE WHEN {none} THEN NULL ELSE {' + '.join(f'COALESCE({t}, 0)' for t in terms)} END)"

    final = {i: f"z.p{i}" for i in rule_ids if rules[i].kind != RuleKind.PARTS}
    for i in rule_ids:
        if rules[i].kind == RuleKind.PARTS:
            # A parts rule limited to some participants scores only them, whatever its parts do.
            final[i] = f"CASE WHEN {applies(i).replace('x.', 'z.')} THEN {part_sum(i)} END" if applies(i) else part_sum(i)
    columns = [f"{run.rs}", "z.pid", "TRUE" if monthly else "FALSE", sql.date(first)]
    with_base = any(run.metrics[m].figure in BASE_FIGURES for m in metric_ids)
    for name in ("a", "t", "b", "c"):
        if not metric_ids or (name == "b" and not with_base):
            columns.append("NULL")
            continue
        # Facts, targets and bases carry 4 decimals, so do their sums and differences: only quotients
        # (completion, averages, ratios, growth) are rounded to the 6 decimals a figure is stored with.
        columns.append(sql.array([
            sql.figure(f"z.{name}_{m}") if name == "c" or (name == "a" and run.metrics[m].figure in QUOTIENT_FIGURES)
            else f"z.{name}_{m}"
            for m in metric_ids
        ]))
    columns.append(sql.array([final[i] for i in rule_ids]) if rule_ids else "NULL")
    columns.append(sql.array([references.get(i, "NULL") for i in rule_ids]) if references else "NULL")
    if monthly:
        columns += ["NULL", "NULL", "NULL", "NULL"]
    else:
        top = [i for i in rule_ids if rules[i].parent_id is None]
        total = " + ".join(f"COALESCE({final[i]}, 0)" for i in top) or "0"
        bonus = " + ".join(f"COALESCE({final[i]}, 0)" for i in top if rules[i].kind == RuleKind.BONUS) or "0"
        covers_bonus = bool(run.campaign.options.get("met_all_covers_bonus", False))
        scored = sorted({r.metric_id for r in run.rules if r.metric_id and (covers_bonus or r.kind != RuleKind.BONUS)})
        missed = " OR ".join(f"(z.t_{m} IS NOT NULL AND (z.a_{m} IS NULL OR z.a_{m} < z.t_{m}))" for m in scored)
        columns += [
            sql.points(total),
            sql.points(f"({total}) - ({bonus})"),
            sql.points(bonus),
            f"CASE WHEN {missed} THEN FALSE ELSE TRUE END" if missed else "TRUE",
        ]
    return run.execute_built(
        f"INSERT INTO {T(ScoreSheet)} (result_set_id, participant_id, monthly, period_start, actual, target, base, "
        "completion, points, reference, total_points, base_points, bonus_points, met_all_targets) "
        f"SELECT {', '.join(columns)} FROM ({layer3}) z"
    )
