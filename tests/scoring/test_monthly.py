"""Rules evaluated each month, with the quarter's result as average, last month, or all-must-pass."""

import datetime

from django.utils import translation

from scoring.engine import recompute
from scoring.selectors import participant_scores
from tests.scoring.conftest import D
from tests.scoring.helpers import rule_points

MAR_31 = datetime.date(2027, 3, 31)


def monthly_collection(build, combine, rates):
    """Collection rate per month for B1: rates like {1: (97, 100), 2: (90, 100), 3: (99, 100)}."""
    build.branches("B1")
    build.metric("collect", figure="ratio_of_sums", numerator="collected", denominator="due")
    for month, (collected, due) in rates.items():
        build.fact("collected", "B1", datetime.date(2027, month, 15), collected)
        build.fact("due", "B1", datetime.date(2027, month, 15), due)
    return build.rule(
        "collect", "threshold", "collect", 20, params={"bar": "0.97"}, evaluation="monthly", monthly_combine=combine
    )


RATES = {1: (97, 100), 2: (90, 100), 3: (99, 100)}


def test_monthly_average_of_three_months(build):
    rule = monthly_collection(build, "average", RATES)
    # 20 + 0 + 20 over three months
    assert rule_points(build, recompute(build.campaign.pk, MAR_31), rule) == {"B1": D("13.3333")}


def test_monthly_last_month_counts(build):
    rule = monthly_collection(build, "last", RATES)
    assert rule_points(build, recompute(build.campaign.pk, MAR_31), rule) == {"B1": D("20")}


def test_monthly_all_must_pass_scores_zero_when_one_month_fails(build):
    rule = monthly_collection(build, "all_pass", RATES)
    assert rule_points(build, recompute(build.campaign.pk, MAR_31), rule) == {"B1": D("0")}


def test_monthly_all_must_pass_scores_full_when_every_month_passes(build):
    rule = monthly_collection(build, "all_pass", {1: (97, 100), 2: (98, 100), 3: (99, 100)})
    assert rule_points(build, recompute(build.campaign.pk, MAR_31), rule) == {"B1": D("20")}


def test_monthly_average_during_the_quarter_uses_months_begun(build):
    rule = monthly_collection(build, "average", RATES)
    # On 15 February: January 20, February (so far) 0
    assert rule_points(build, recompute(build.campaign.pk, datetime.date(2027, 2, 15)), rule) == {"B1": D("10")}


def test_monthly_scores_are_explained_month_by_month(build):
    monthly_collection(build, "average", RATES)
    recompute(build.campaign.pk, MAR_31)
    with translation.override("en"):
        line = participant_scores(build.campaign.pk, MAR_31, build.participants["B1"].pk).rules[0]
    assert [m["points"] for m in line.months] == [D("20"), D("0"), D("20")]
    assert "3" in line.explanation


def test_metric_figures_for_the_campaign_and_for_one_month(build):
    from scoring.selectors import metric_figures

    monthly_collection(build, "average", RATES)
    recompute(build.campaign.pk, MAR_31)
    b1 = build.participants["B1"].pk
    assert metric_figures(build.campaign.pk, MAR_31, "collect", field="actual") == {b1: D("0.953333")}
    january = metric_figures(build.campaign.pk, MAR_31, "collect", field="actual", month=datetime.date(2027, 1, 1))
    assert january == {b1: D("0.97")}
