"""Score sheets: a day's results are one row per participant and period, read back one metric / rule at a time."""

import datetime

import pytest

from scoring.engine import recompute
from scoring.models import MetricResult, RuleScore, ScoreSheet
from scoring.selectors import participant_scores
from tests.scoring.conftest import D
from tests.scoring.helpers import figures, rule_points, totals

DAY = datetime.date(2027, 2, 10)


@pytest.fixture
def campaign(build):
    build.branches("B1", "B2", "B3")
    build.metric("dep")
    build.metric("loan")
    build.facts("dep", DAY, B1=80, B2=120, B3=50)
    build.facts("loan", DAY, B1=30, B2=10)
    for unit in ("B1", "B2", "B3"):
        build.target("dep", unit, 100)
        build.target("loan", unit, 20)
    build.rule("dep", "completion", "dep", 60)
    build.rule("loan", "completion", "loan", 40)
    build.rule("loan_monthly", "threshold", "loan", 0, evaluation="monthly", params={"bar": "20"})
    return build


def test_one_sheet_row_per_participant_for_the_campaign_and_for_each_month(campaign):
    result_set = recompute(campaign.campaign.pk, DAY)
    sheets = ScoreSheet.objects.filter(result_set_id=result_set.pk)
    # three branches × (the campaign row + January + February), not one row per metric and rule
    assert sheets.filter(monthly=False).count() == 3
    assert sorted(set(sheets.filter(monthly=True).values_list("period_start", flat=True))) == [
        datetime.date(2027, 1, 1), datetime.date(2027, 2, 1),
    ]
    assert sheets.count() == 9


def test_the_views_read_each_metric_and_rule_from_its_place_in_the_arrays(campaign):
    result_set = recompute(campaign.campaign.pk, DAY)
    b1 = ScoreSheet.objects.get(result_set_id=result_set.pk, participant_id=campaign.participants["B1"].pk, monthly=False)
    layout = result_set.layout
    dep = layout["metrics"].index(campaign.metrics["dep"].pk)
    loan = layout["metrics"].index(campaign.metrics["loan"].pk)
    assert (b1.actual[dep], b1.actual[loan]) == (D("80"), D("30"))
    assert figures(campaign, result_set, "dep") == {"B1": D("80"), "B2": D("120"), "B3": D("50")}
    assert figures(campaign, result_set, "loan", "completion") == {"B1": D("1.5"), "B2": D("0.5"), "B3": None}
    loan_rule = campaign.campaign.rules.get(code="loan")
    assert rule_points(campaign, result_set, loan_rule) == {"B1": D("40"), "B2": D("20"), "B3": D("0")}
    assert b1.points[layout["rules"].index(loan_rule.pk)] == D("40")
    assert totals(campaign, result_set) == {"B1": D("88"), "B2": D("80"), "B3": D("30")}


def test_a_rule_that_does_not_score_a_participant_has_no_rule_row_for_them(build):
    build.branches("B1", "B2")
    build.branches("S1", kind="outlet", category="储蓄所")
    build.metric("dep")
    build.facts("dep", DAY, B1=100, B2=50, S1=70)
    for unit in ("B1", "B2", "S1"):
        build.target("dep", unit, 100)
    rule = build.rule("dep_outlets", "completion", "dep", 100, participants={"categories": ["储蓄所"]})
    result_set = recompute(build.campaign.pk, DAY)
    assert rule_points(build, result_set, rule) == {"S1": D("70")}
    assert totals(build, result_set) == {"B1": D("0"), "B2": D("0"), "S1": D("70")}


def test_an_earlier_day_reads_by_its_own_layout_after_the_campaign_gains_a_metric(campaign):
    before = recompute(campaign.campaign.pk, DAY)
    dep_before = figures(campaign, before, "dep")
    # the planner adds a metric in front of the others: positions of later days move, earlier days' do not
    campaign.metric("aaa_new")
    campaign.rule("aaa_new", "completion", "aaa_new", 0)
    after = recompute(campaign.campaign.pk, DAY + datetime.timedelta(days=1))
    assert len(after.layout["metrics"]) == len(before.layout["metrics"]) + 1
    assert figures(campaign, before, "dep") == dep_before
    assert MetricResult.objects.filter(result_set_id=before.pk, monthly=False).count() == 6
    assert RuleScore.objects.filter(result_set_id=after.pk, monthly=False, rule_id=campaign.campaign.rules.get(code="aaa_new").pk).count() == 3


def test_a_participants_explanation_is_read_from_the_sheet(campaign):
    recompute(campaign.campaign.pk, DAY)
    scores = participant_scores(campaign.campaign.pk, DAY, campaign.participants["B1"].pk)
    lines = {line.code: line for line in scores.rules}
    assert (lines["dep"].actual, lines["dep"].target, lines["dep"].points) == (D("80"), D("100"), D("48"))
    assert "80" in lines["dep"].explanation and "100" in lines["dep"].explanation
    assert [m["points"] for m in lines["loan_monthly"].months] == [D("0"), D("0")]
