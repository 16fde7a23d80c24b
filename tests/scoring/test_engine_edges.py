"""Edges of the engine: mid-month starts, joiners, parts filters, gates with filters, rounding, SQLite limits, deleted rules."""

import datetime

from campaigns.models import Campaign, Phase, TargetPeriod
from scoring.engine import recompute
from scoring.models import MetricResult, Ranking, RuleScore
from scoring.selectors import metric_figures, participant_scores
from tests.scoring.conftest import D
from tests.scoring.helpers import figures, ranks, rule_points, totals

JAN_31 = datetime.date(2027, 1, 31)
FEB_10 = datetime.date(2027, 2, 10)


def ranking(build, code, **fields):
    r = Ranking(campaign=build.campaign, code=code, name=code, **fields)
    r.full_clean()
    r.save()
    return r


# 1. A campaign that starts mid-month: the first month's own target is never read.
def test_month_target_of_a_campaign_starting_mid_month(build):
    Campaign.objects.filter(pk=build.campaign.pk).update(start_date=datetime.date(2027, 1, 15))
    build.campaign.refresh_from_db()
    build.branches("B1")
    build.metric("pos", figure="flow_sum", kind="count")
    build.fact("pos", "B1", datetime.date(2027, 1, 20), 4)
    build.target("pos", "B1", 8, period=TargetPeriod.MONTH, month=datetime.date(2027, 1, 1))
    rule = build.rule("pos", "completion", "pos", 10, evaluation="monthly")
    rs = recompute(build.campaign.pk, JAN_31)
    jan = MetricResult.objects.get(result_set_id=rs.pk, monthly=True)
    assert (jan.actual, jan.target) == (D("4"), D("8"))
    assert rule_points(build, rs, rule) == {"B1": D("5")}


# 3. A monthly rule as one part of a parts rule.
def test_monthly_part_of_parts(build):
    build.branches("B1")
    build.metric("collect", figure="ratio_of_sums", numerator="collected", denominator="due")
    build.facts("collected", datetime.date(2027, 1, 10), B1=97)
    build.facts("due", datetime.date(2027, 1, 10), B1=100)
    build.facts("collected", datetime.date(2027, 2, 5), B1=90)
    build.facts("due", datetime.date(2027, 2, 5), B1=100)
    top = build.rule("top", "parts", None, 20)
    build.rule("c", "threshold", "collect", 20, parent=top, params={"bar": "0.97"}, evaluation="monthly")
    rs = recompute(build.campaign.pk, FEB_10)
    assert rule_points(build, rs, top) == {"B1": D("10")}
    assert totals(build, rs) == {"B1": D("10")}


# 4. Relative to best, monthly, within groups.
def test_relative_to_best_monthly_within_groups(build):
    build.branches("B1", "B2", "S1", "S2")
    build.metric("dep", figure="daily_average")
    for code, jan, feb in (("B1", 100, 10), ("B2", 50, 20), ("S1", 30, 40), ("S2", 60, 10)):
        for d in range(1, 32):
            build.fact("dep", code, datetime.date(2027, 1, d), jan)
        for d in range(1, 11):
            build.fact("dep", code, datetime.date(2027, 2, d), feb)
    kinds = build.groups("kind", direct=["B1", "B2"], savings=["S1", "S2"])
    rule = build.rule("dep", "relative_to_best", "dep", 100, group_set=kinds, evaluation="monthly", monthly_combine="average")
    rs = recompute(build.campaign.pk, FEB_10)
    # B1: Jan 100/100, Feb 10/20 → (100 + 50) / 2 = 75; B2: 50 + 100 → 75; S1: 50 + 100 → 75; S2: 100 + 25 → 62.5
    assert rule_points(build, rs, rule) == {"B1": D("75"), "B2": D("75"), "S1": D("75"), "S2": D("62.5")}


# 5. A monthly ranking with an eligibility floor on the month.
def test_month_ranking_floor_reads_the_month(build):
    build.branches("B1", "B2")
    build.metric("prem", figure="flow_sum")
    build.facts("prem", datetime.date(2027, 1, 10), B1=1000, B2=0)
    build.facts("prem", datetime.date(2027, 2, 5), B1=10, B2=50)
    month = ranking(build, "m", basis="metric_figure", metric=build.metrics["prem"], period="month",
                    eligibility=[{"metric": "prem", "on": "figure", "min": "20"}])
    assert ranks(build, recompute(build.campaign.pk, FEB_10), month) == {"B2": 1}


# 6. A recompute of a day before the campaign starts with a month ranking.
def test_day_before_start_with_a_month_ranking(build):
    build.branches("B1")
    build.metric("prem", figure="flow_sum")
    ranking(build, "m", basis="metric_figure", metric=build.metrics["prem"], period="month")
    recompute(build.campaign.pk, datetime.date(2026, 12, 31))


# 7. A parts rule limited to units: its staff get nothing from it.
def test_parts_parent_filter(build):
    build.campaign.participant_level = "mixed"
    build.campaign.save()
    build.branches("B1")
    build.people("S1", unit="B1")
    build.metric("dep")
    build.facts("dep", JAN_31, B1=100, S1=100)
    build.target("dep", "B1", 100)
    build.target("dep", "S1", 100)
    top = build.rule("top", "parts", None, 100, participants={"level": "unit"})
    build.rule("d", "completion", "dep", 100, parent=top)
    rs = recompute(build.campaign.pk, JAN_31)
    assert rule_points(build, rs, top) == {"B1": D("100")}


# 8. Multi-indicator point metric on a month row.
def test_multi_indicator_increase_on_month_rows(build):
    build.branches("B1")
    build.metric("dep", figure="increase_over_base", terms=["a", "b"])
    build.fact("a", "B1", datetime.date(2026, 12, 31), 100)
    build.fact("b", "B1", datetime.date(2026, 12, 31), 100)
    build.fact("a", "B1", JAN_31, 150)
    build.fact("b", "B1", JAN_31, 130)
    build.fact("a", "B1", FEB_10, 160)
    build.fact("b", "B1", FEB_10, 160)
    build.target("dep", "B1", 100, period=TargetPeriod.MONTH, month=datetime.date(2027, 1, 1))
    build.target("dep", "B1", 200, period=TargetPeriod.MONTH, month=datetime.date(2027, 2, 1))
    rule = build.rule("dep", "completion", "dep", 10, evaluation="monthly", monthly_combine="last")
    rs = recompute(build.campaign.pk, FEB_10)
    jan = metric_figures(build.campaign.pk, FEB_10, "dep", field="actual", month=datetime.date(2027, 1, 1))
    feb = metric_figures(build.campaign.pk, FEB_10, "dep", field="actual", month=datetime.date(2027, 2, 1))
    pid = build.participants["B1"].pk
    assert (jan[pid], feb[pid]) == (D("80"), D("120"))
    assert rule_points(build, rs, rule) == {"B1": D("6")}


# 9. Daily average with carry-forward on a month row: January's last balance carries into February.
def test_carry_forward_into_a_month_row(build):
    build.campaign.options = {"carry_forward_balances": True}
    build.campaign.save()
    build.branches("B1")
    build.metric("dep", figure="daily_average")
    build.fact("dep", "B1", datetime.date(2027, 1, 20), 300)
    build.fact("dep", "B1", datetime.date(2027, 2, 3), 600)
    build.rule("dep", "threshold", "dep", 10, params={"bar": "1"}, evaluation="monthly")
    recompute(build.campaign.pk, datetime.date(2027, 2, 3))
    feb = metric_figures(build.campaign.pk, datetime.date(2027, 2, 3), "dep", field="actual", month=datetime.date(2027, 2, 1))
    assert feb[build.participants["B1"].pk] == D("400")


# 10. Mixed campaign: a staff member's metric with several indicators in a month row.
def test_mixed_multi_indicator_staff_and_units(build):
    build.campaign.participant_level = "mixed"
    build.campaign.save()
    build.branches("B1")
    build.people("S1", unit="B1")
    build.metric("dep", figure="value_at_date", terms=["unit_bal", "staff_bal"])
    build.facts("unit_bal", JAN_31, B1=500)
    build.facts("staff_bal", JAN_31, S1=40)
    rs = recompute(build.campaign.pk, JAN_31)
    assert figures(build, rs, "dep") == {"B1": D("500"), "S1": D("40")}


# 11. Tie-break metric on a month ranking.
def test_tie_break_on_month_ranking(build):
    build.branches("B1", "B2")
    build.metric("prem", figure="flow_sum")
    build.metric("short", figure="flow_sum")
    build.facts("prem", datetime.date(2027, 2, 5), B1=50, B2=50)
    build.facts("short", datetime.date(2027, 2, 5), B1=1, B2=2)
    month = ranking(build, "m", basis="metric_figure", metric=build.metrics["prem"], period="month", tie_break_metric="short")
    assert ranks(build, recompute(build.campaign.pk, FEB_10), month) == {"B2": 1, "B1": 2}


# 12. Phase rankings of a daily average.
def test_phase_daily_average(build):
    build.branches("B1")
    build.metric("dep", figure="daily_average")
    Phase.objects.create(campaign=build.campaign, code="P2", name="P2", start_date=datetime.date(2027, 2, 1),
                         end_date=datetime.date(2027, 3, 31), target_share=D("0.5"))
    for d in range(1, 11):
        build.fact("dep", "B1", datetime.date(2027, 2, d), 100)
    build.target("dep", "B1", 200)
    r = ranking(build, "p", basis="metric_completion", metric=build.metrics["dep"], period="phase")
    rs = recompute(build.campaign.pk, FEB_10)
    assert ranks(build, rs, r, "value") == {"B1": D("1")}


# 13. Ordinal ties with a group set: the gap in points.
def test_gap_points_with_tie_break_metric(build):
    build.branches("B1", "B2", "B3")
    build.metric("dep")
    build.metric("loans")
    build.facts("dep", JAN_31, B1=100, B2=100, B3=50)
    build.facts("loans", JAN_31, B1=5, B2=8)
    tied = ranking(build, "tied", basis="metric_figure", metric=build.metrics["dep"], tie_break_metric="loans")
    rs = recompute(build.campaign.pk, JAN_31)
    assert ranks(build, rs, tied) == {"B2": 1, "B1": 2, "B3": 3}
    assert ranks(build, rs, tied, "gap_value") == {"B2": None, "B1": D("0"), "B3": D("50")}


# 14. met_all_covers_bonus: true brings the bonus metrics into "met every target".
def test_met_all_covers_bonus_true(build):
    build.campaign.options = {"met_all_covers_bonus": True}
    build.campaign.save()
    build.branches("B1")
    build.metric("dep")
    build.metric("mobile")
    build.facts("dep", JAN_31, B1=100)
    build.facts("mobile", JAN_31, B1=5)
    build.target("dep", "B1", 100)
    build.target("mobile", "B1", 10)
    build.rule("dep", "completion", "dep", 100)
    build.rule("mobile", "bonus", "mobile", 5)
    rs = recompute(build.campaign.pk, JAN_31)
    assert totals(build, rs, "met_all_targets") == {"B1": False}


# 15. A participant who joins mid-way, monthly average.
def test_joiner_mid_way_monthly_average(build):
    build.branches("B1")
    p = build.participants["B1"]
    p.joined_on = datetime.date(2027, 2, 1)
    p.save()
    build.metric("collect", figure="ratio_of_sums", numerator="collected", denominator="due")
    build.facts("collected", datetime.date(2027, 2, 5), B1=99)
    build.facts("due", datetime.date(2027, 2, 5), B1=100)
    rule = build.rule("c", "threshold", "collect", 20, params={"bar": "0.97"}, evaluation="monthly")
    rs = recompute(build.campaign.pk, FEB_10)
    months = RuleScore.objects.filter(result_set_id=rs.pk, monthly=True).values_list("period_start", "points")
    assert sorted(months) == [(datetime.date(2027, 2, 1), D("20"))]
    assert rule_points(build, rs, rule) == {"B1": D("20")}


# 16. Explanation of a relative-to-best part.
def test_explanation_of_a_relative_to_best_within_groups(build):
    build.branches("B1", "B2")
    build.metric("dep")
    build.facts("dep", JAN_31, B1=100, B2=50)
    kinds = build.groups("kind", a=["B1", "B2"])
    build.rule("dep", "relative_to_best", "dep", 30, group_set=kinds)
    recompute(build.campaign.pk, JAN_31)
    line = participant_scores(build.campaign.pk, JAN_31, build.participants["B2"].pk).rules[0]
    assert line.reference == D("100") and line.points == D("15")


# 17. Eligibility floor of a ranking on the month reading an unranked metric.
def test_month_floor_on_another_metric(build):
    build.branches("B1", "B2")
    build.metric("prem", figure="flow_sum")
    build.metric("short", figure="flow_sum")
    build.facts("prem", datetime.date(2027, 2, 5), B1=50, B2=40)
    build.facts("short", datetime.date(2027, 1, 5), B1=100, B2=0)
    build.facts("short", datetime.date(2027, 2, 5), B1=0, B2=100)
    month = ranking(build, "m", basis="metric_figure", metric=build.metrics["prem"], period="month",
                    eligibility=[{"metric": "short", "on": "figure", "min": "50"}])
    assert ranks(build, recompute(build.campaign.pk, FEB_10), month) == {"B2": 1}


# 18. Staff-below gate with a staff participant who left.
def test_staff_below_gate_ignores_gate_participant_filter(build):
    from scoring.models import Gate

    build.campaign.participant_level = "mixed"
    build.campaign.save()
    build.branches("B1", "B2")
    build.people("S1", unit="B1")
    build.metric("card")
    build.facts("card", JAN_31, S1=10)
    Gate.objects.create(campaign=build.campaign, code="g", name="g", kind="staff_below", metric=build.metrics["card"],
                        minimum=30, participants={"level": "unit", "categories": ["储蓄所"]})
    rs = recompute(build.campaign.pk, JAN_31)
    assert totals(build, rs, "vetoed") == {"B1": False, "B2": False, "S1": False}


# 19. A ratio just under the bar: PostgreSQL rounds the figure to 6 decimals before the threshold.
def test_threshold_just_below_the_bar_same_on_both_databases(build):
    build.branches("B1")
    build.metric("collect", figure="ratio_of_sums", numerator="collected", denominator="due")
    build.facts("collected", JAN_31, B1="9699.9996")
    build.facts("due", JAN_31, B1="10000")
    rule = build.rule("c", "threshold", "collect", 20, params={"bar": "0.97"})
    # 0.96999996 < 0.97: the rulebook's "anything less earns 0"
    assert rule_points(build, recompute(build.campaign.pk, JAN_31), rule) == {"B1": D("0")}


# 20. A bonus "met" while met:X says not met.
def test_bonus_met_agrees_with_met_flag(build):
    build.branches("B1")
    build.metric("dep")
    build.metric("mobile")
    build.facts("dep", JAN_31, B1=100)
    build.facts("mobile", JAN_31, B1="999999.9999")
    build.target("dep", "B1", 100)
    build.target("mobile", "B1", 1000000)
    build.rule("dep", "completion", "dep", 100)
    bonus = build.rule("mobile", "bonus", "mobile", 5)
    r = ranking(build, "met_mobile", required_flags=["met:mobile"])
    rs = recompute(build.campaign.pk, JAN_31)
    met = "B1" in ranks(build, rs, r)
    assert (rule_points(build, rs, bonus)["B1"] > 0) == met


# 21. SQLite: json_array takes at most 127 arguments, so a campaign with 128 metrics cannot be recomputed.
def test_a_campaign_with_128_metrics(build):
    build.branches("B1")
    for i in range(128):
        build.metric(f"m{i:03d}")
        build.facts(f"m{i:03d}", JAN_31, B1=i)
    rs = recompute(build.campaign.pk, JAN_31)
    assert figures(build, rs, "m127") == {"B1": D("127")}


# 22. An earlier day's page after the planner deletes a rule.
def test_participant_page_of_an_earlier_day_after_a_rule_is_deleted(build):
    build.branches("B1")
    build.metric("dep")
    build.metric("loan")
    build.facts("dep", JAN_31, B1=50)
    build.target("dep", "B1", 100)
    build.rule("dep", "completion", "dep", 60)
    loan = build.rule("loan", "completion", "loan", 40)
    recompute(build.campaign.pk, JAN_31)
    loan.delete()
    scores = participant_scores(build.campaign.pk, JAN_31, build.participants["B1"].pk)
    assert [line.code for line in scores.rules] == ["dep"]


# 23. docs/scoring.md: "missing figure on D ... every rule scores 0" -- a threshold's else_points is paid instead.
def test_missing_figure_scores_zero_under_a_threshold_with_else_points(build):
    build.branches("B1")
    build.metric("dep")
    rule = build.rule("dep", "threshold", "dep", 10, params={"bar": "100", "else_points": "4"})
    assert rule_points(build, recompute(build.campaign.pk, JAN_31), rule) == {"B1": D("0")}
