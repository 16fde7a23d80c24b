"""The figure a metric scores: point values, increases, daily averages, sums, ratios, delivered aggregates."""

import datetime

from campaigns.models import TargetPeriod
from scoring.engine import recompute
from tests.scoring.conftest import D
from tests.scoring.helpers import figures

JAN = [datetime.date(2027, 1, d) for d in range(1, 32)]


def test_daily_average_over_calendar_days_elapsed(build):
    build.branches("B1")
    build.metric("dep", figure="daily_average")
    build.fact("dep", "B1", JAN[0], 100)
    build.fact("dep", "B1", JAN[1], 200)
    build.fact("dep", "B1", JAN[2], 600)
    rs = recompute(build.campaign.pk, JAN[2])
    assert figures(build, rs, "dep") == {"B1": D("300")}


def test_daily_average_counts_a_missing_day_as_zero(build):
    build.branches("B1")
    build.metric("dep", figure="daily_average")
    build.fact("dep", "B1", JAN[0], 300)
    build.fact("dep", "B1", JAN[2], 600)
    assert figures(build, recompute(build.campaign.pk, JAN[2]), "dep") == {"B1": D("300")}


def test_daily_average_increase_over_the_base(build):
    build.branches("B1")
    build.metric("dep", figure="daily_average_increase")
    build.fact("dep", "B1", JAN[0], 1100)
    build.fact("dep", "B1", JAN[1], 1300)
    build.target("dep", "B1", 400, base=1000)
    rs = recompute(build.campaign.pk, JAN[1])
    assert figures(build, rs, "dep") == {"B1": D("200")}
    assert figures(build, rs, "dep", "completion") == {"B1": D("0.5")}


def test_daily_average_increase_takes_its_base_from_the_day_before_the_start(build):
    build.branches("B1", "B2")
    build.metric("dep", figure="daily_average_increase", terms=["dep_a", "dep_b"])
    for indicator, base, days in (("dep_a", 700, (900, 1100)), ("dep_b", 300, (500, 700))):
        build.fact(indicator, "B1", datetime.date(2026, 12, 31), base)  # the base, not part of the average
        for day, value in zip(JAN, days, strict=False):
            build.fact(indicator, "B1", day, value)
    build.fact("dep_a", "B2", JAN[1], 800)  # no base figure: the base is 0
    build.target("dep", "B1", 800)
    build.target("dep", "B2", 800)
    rs = recompute(build.campaign.pk, JAN[1])
    # B1: daily average (1400 + 1800) ÷ 2 = 1600, base 700 + 300 = 1000 → 600; B2: 800 ÷ 2 − 0 = 400.
    assert figures(build, rs, "dep") == {"B1": D("600"), "B2": D("400")}
    assert figures(build, rs, "dep", "completion") == {"B1": D("0.75"), "B2": D("0.5")}


def test_increase_uses_the_balance_of_the_day_before_the_start_when_no_base_given(build):
    build.branches("B1")
    build.metric("dep", figure="increase_over_base")
    build.fact("dep", "B1", datetime.date(2026, 12, 31), 5000)
    build.fact("dep", "B1", JAN[9], 5600)
    assert figures(build, recompute(build.campaign.pk, JAN[9]), "dep") == {"B1": D("600")}


def test_negative_increase_is_kept_as_a_negative_figure(build):
    build.branches("B1")
    build.metric("dep", figure="increase_over_base")
    build.fact("dep", "B1", JAN[9], 4000)
    build.target("dep", "B1", 1000, base=5000)
    rs = recompute(build.campaign.pk, JAN[9])
    assert figures(build, rs, "dep") == {"B1": D("-1000")}
    assert figures(build, rs, "dep", "completion") == {"B1": D("-1")}


def test_flow_sum_adds_the_days_of_the_period(build):
    build.branches("B1")
    build.metric("pos", figure="flow_sum", kind="count")
    for day in JAN[:5]:
        build.fact("pos", "B1", day, 2)
    build.fact("pos", "B1", datetime.date(2026, 12, 31), 50)  # before the campaign: not counted
    assert figures(build, recompute(build.campaign.pk, JAN[4]), "pos") == {"B1": D("10")}


def test_ratio_of_sums_is_not_the_average_of_daily_ratios(build):
    build.branches("B1")
    build.metric("collect", figure="ratio_of_sums", numerator="collected", denominator="due")
    build.fact("collected", "B1", JAN[0], 1)
    build.fact("due", "B1", JAN[0], 1)
    build.fact("collected", "B1", JAN[1], 0)
    build.fact("due", "B1", JAN[1], 3)
    # (1 + 0) ÷ (1 + 3) = 25 %, not (100 % + 0 %) ÷ 2
    assert figures(build, recompute(build.campaign.pk, JAN[1]), "collect") == {"B1": D("0.25")}


def test_metric_as_the_sum_of_indicators(build):
    build.branches("B1")
    build.metric("intl", figure="flow_sum", terms=["remit", "collect", "lc", "-refund"])
    build.fact("remit", "B1", JAN[0], 100)
    build.fact("collect", "B1", JAN[0], 20)
    build.fact("lc", "B1", JAN[1], 3)
    build.fact("refund", "B1", JAN[1], 10)
    assert figures(build, recompute(build.campaign.pk, JAN[1]), "intl") == {"B1": D("113")}


def test_delivered_aggregate_is_used_as_delivered(build):
    build.branches("B1")
    build.metric("dep_avg_dw", figure="as_delivered")
    build.fact("dep_avg_dw", "B1", JAN[0], 999)
    build.fact("dep_avg_dw", "B1", JAN[1], 1234.5)
    assert figures(build, recompute(build.campaign.pk, JAN[1]), "dep_avg_dw") == {"B1": D("1234.5")}


def test_month_target_is_used_for_the_month_figure(build):
    from scoring.models import MetricResult

    build.branches("B1")
    build.metric("pos", figure="flow_sum", kind="count")
    build.fact("pos", "B1", JAN[0], 3)
    build.fact("pos", "B1", datetime.date(2027, 2, 1), 4)
    build.target("pos", "B1", 8, period=TargetPeriod.MONTH, month=datetime.date(2027, 2, 1))
    build.rule("pos", "threshold", "pos", 10, params={"on": "completion", "bar": "0.5"}, evaluation="monthly")
    rs = recompute(build.campaign.pk, datetime.date(2027, 2, 1))
    february = MetricResult.objects.get(result_set_id=rs.pk, period_start=datetime.date(2027, 2, 1), monthly=True)
    assert (february.actual, february.target, february.completion) == (D("4"), D("8"), D("0.5"))


def test_carry_forward_option_repeats_the_last_balance_over_missing_days(build):
    build.campaign.options = {"carry_forward_balances": True}
    build.campaign.save()
    build.branches("B1")
    build.metric("dep", figure="daily_average")
    build.fact("dep", "B1", JAN[0], 300)
    build.fact("dep", "B1", JAN[2], 600)
    # 1 Jan 300, 2 Jan carried 300, 3 Jan 600 → 1,200 ÷ 3
    assert figures(build, recompute(build.campaign.pk, JAN[2]), "dep") == {"B1": D("400")}


def test_carry_forward_starts_from_the_base_day_balance(build):
    build.campaign.options = {"carry_forward_balances": True}
    build.campaign.save()
    build.branches("B1")
    build.metric("dep", figure="daily_average_increase")
    build.fact("dep", "B1", datetime.date(2026, 12, 31), 100)  # the base, carried into 1-2 January
    build.fact("dep", "B1", JAN[2], 400)
    # (100 + 100 + 400) ÷ 3 = 200; base 100 → increase 100
    assert figures(build, recompute(build.campaign.pk, JAN[2]), "dep") == {"B1": D("100")}


def test_month_daily_average_increase_reads_the_month_and_the_base_day_only(build):
    from scoring.models import MetricResult

    build.branches("B1")
    build.metric("dep", figure="daily_average_increase")
    build.fact("dep", "B1", datetime.date(2026, 12, 31), 1000)  # the base
    build.fact("dep", "B1", JAN[30], 9000)  # January: not part of February's average
    build.fact("dep", "B1", datetime.date(2027, 2, 1), 1200)
    build.fact("dep", "B1", datetime.date(2027, 2, 2), 1600)
    build.target("dep", "B1", 800, period=TargetPeriod.MONTH, month=datetime.date(2027, 2, 1))
    build.rule("dep", "completion", "dep", 10, evaluation="monthly")
    rs = recompute(build.campaign.pk, datetime.date(2027, 2, 2))
    february = MetricResult.objects.get(result_set_id=rs.pk, period_start=datetime.date(2027, 2, 1), monthly=True)
    # (1200 + 1600) ÷ 2 − 1000 = 400 of 800
    assert (february.actual, february.completion) == (D("400"), D("0.5"))
