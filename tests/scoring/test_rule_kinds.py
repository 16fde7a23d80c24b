"""Each rule kind on a handful of branches; every expected figure can be checked by hand."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from scoring.engine import recompute
from scoring.selectors import participant_scores
from tests.scoring.conftest import D
from tests.scoring.helpers import rule_points, totals

DAY = datetime.date(2027, 1, 31)


def deposits(build, **increases):
    """Deposit increase metric: base 1000 for everyone, balance 1000 + increase on DAY, target 1000."""
    build.metric("dep", figure="increase_over_base")
    for code, increase in increases.items():
        build.fact("dep", code, DAY, 1000 + increase)
        build.target("dep", code, 1000, base=1000)


def test_completion_scores_points_times_completion_rate(build):
    build.branches("B1", "B2")
    deposits(build, B1=800, B2=500)
    rule = build.rule("dep", "completion", "dep", 45)
    rs = recompute(build.campaign.pk, DAY)
    assert rule_points(build, rs, rule) == {"B1": D("36"), "B2": D("22.5")}


def test_completion_is_capped_at_full_points_by_default(build):
    build.branches("B1")
    deposits(build, B1=1450)
    rule = build.rule("dep", "completion", "dep", 45)
    assert rule_points(build, recompute(build.campaign.pk, DAY), rule) == {"B1": D("45")}


def test_completion_cap_setting_lets_a_branch_earn_more(build):
    build.branches("B1")
    deposits(build, B1=1450)
    rule = build.rule("dep", "completion", "dep", 40, params={"cap": "1.2"})
    assert rule_points(build, recompute(build.campaign.pk, DAY), rule) == {"B1": D("48")}


def test_completion_below_zero_below_setting_scores_zero(build):
    build.branches("B1", "B2")
    deposits(build, B1=790, B2=800)
    rule = build.rule("dep", "completion", "dep", 10, params={"zero_below": "0.8"})
    assert rule_points(build, recompute(build.campaign.pk, DAY), rule) == {"B1": D("0"), "B2": D("8")}


def test_negative_increase_scores_zero_under_completion(build):
    build.branches("B1")
    deposits(build, B1=-300)
    rule = build.rule("dep", "completion", "dep", 45)
    assert rule_points(build, recompute(build.campaign.pk, DAY), rule) == {"B1": D("0")}


def test_target_of_zero_scores_zero_and_says_no_target(build):
    build.branches("B1")
    build.metric("dep", figure="increase_over_base")
    build.fact("dep", "B1", DAY, 1500)
    build.target("dep", "B1", 0, base=1000)
    rule = build.rule("dep", "completion", "dep", 45)
    rs = recompute(build.campaign.pk, DAY)
    assert rule_points(build, rs, rule) == {"B1": D("0")}
    with translation.override("en"):
        line = participant_scores(build.campaign.pk, DAY, build.participants["B1"].pk).rules[0]
    assert line.completion is None and "no target" in line.explanation


def test_participant_with_no_figures_yet_scores_zero_and_says_so(build):
    build.branches("B1", "B2")
    deposits(build, B1=500)
    build.target("dep", "B2", 1000, base=1000)
    rule = build.rule("dep", "completion", "dep", 45)
    rs = recompute(build.campaign.pk, DAY)
    assert rule_points(build, rs, rule) == {"B1": D("22.5"), "B2": D("0")}
    with translation.override("en"):
        line = participant_scores(build.campaign.pk, DAY, build.participants["B2"].pk).rules[0]
    assert line.actual is None and "no figure yet" in line.explanation


def test_participant_with_no_figures_yet_is_ranked_last_on_the_total(build):
    from scoring.models import Ranking
    from tests.scoring.helpers import ranks

    build.branches("B1", "B2", "B3")
    deposits(build, B1=500, B3=100)
    build.target("dep", "B2", 1000, base=1000)
    build.rule("dep", "completion", "dep", 45)
    overall = Ranking.objects.create(campaign=build.campaign, code="overall", name="overall")
    # B1 22.5, B3 4.5, B2 (no figure yet) 0: last
    assert ranks(build, recompute(build.campaign.pk, DAY), overall) == {"B1": 1, "B3": 2, "B2": 3}


def test_collection_rate_below_97_percent_scores_zero(build):
    build.branches("B1", "B2")
    build.metric("collect", figure="ratio_of_sums", numerator="collected", denominator="due")
    build.facts("collected", DAY, B1=96, B2=97)
    build.facts("due", DAY, B1=100, B2=100)
    rule = build.rule("collect", "threshold", "collect", 20, params={"bar": "0.97"})
    assert rule_points(build, recompute(build.campaign.pk, DAY), rule) == {"B1": D("0"), "B2": D("20")}


def test_threshold_else_points_when_bar_missed(build):
    build.branches("B1")
    deposits(build, B1=900)
    rule = build.rule("dep", "threshold", "dep", 10, params={"on": "completion", "bar": "1", "else_points": "4"})
    assert rule_points(build, recompute(build.campaign.pk, DAY), rule) == {"B1": D("4")}


def test_relative_to_best_gives_best_full_points_others_a_share(build):
    build.branches("B1", "B2", "B3")
    deposits(build, B1=400, B2=200, B3=100)
    rule = build.rule("dep", "relative_to_best", "dep", 30)
    assert rule_points(build, recompute(build.campaign.pk, DAY), rule) == {"B1": D("30"), "B2": D("15"), "B3": D("7.5")}


def test_relative_to_best_negative_increase_floored_at_zero(build):
    build.branches("B1", "B2")
    deposits(build, B1=400, B2=-200)
    rule = build.rule("dep", "relative_to_best", "dep", 30)
    assert rule_points(build, recompute(build.campaign.pk, DAY), rule) == {"B1": D("30"), "B2": D("0")}


def test_relative_to_best_negative_share_when_allowed(build):
    build.branches("B1", "B2")
    deposits(build, B1=400, B2=-200)
    rule = build.rule("dep", "relative_to_best", "dep", 30, params={"allow_negative": True})
    assert rule_points(build, recompute(build.campaign.pk, DAY), rule) == {"B1": D("30"), "B2": D("-15")}


def test_relative_to_best_within_own_group(build):
    build.branches("B1", "B2", "S1", "S2")
    deposits(build, B1=400, B2=200, S1=100, S2=50)
    kinds = build.groups("kind", direct=["B1", "B2"], savings=["S1", "S2"])
    rule = build.rule("dep", "relative_to_best", "dep", 30, group_set=kinds)
    assert rule_points(build, recompute(build.campaign.pk, DAY), rule) == {
        "B1": D("30"), "B2": D("15"), "S1": D("30"), "S2": D("15"),
    }


def test_relative_to_best_on_completion_rate(build):
    build.branches("B1", "B2")
    build.metric("intl", figure="flow_sum")
    build.facts("intl", DAY, B1=150, B2=60)
    build.target("intl", "B1", 100)
    build.target("intl", "B2", 40)
    rule = build.rule("intl", "relative_to_best", "intl", 10, params={"on": "completion"})
    # B1 150 %, B2 150 %: both are the best
    assert rule_points(build, recompute(build.campaign.pk, DAY), rule) == {"B1": D("10"), "B2": D("10")}


def test_bands_pay_the_highest_band_reached(build):
    build.branches("B1", "B2", "B3")
    deposits(build, B1=100, B2=500, B3=900)
    rule = build.rule(
        "dep", "bands", "dep", 10,
        params={"bands": [{"from": "300", "points": "5"}, {"from": "800", "points": "10"}]},
    )
    assert rule_points(build, recompute(build.campaign.pk, DAY), rule) == {"B1": D("0"), "B2": D("5"), "B3": D("10")}


def test_bonus_item_adds_points_on_top_of_the_base(build):
    build.branches("B1", "B2")
    deposits(build, B1=1000, B2=500)
    build.metric("mobile", figure="value_at_date", kind="count")
    build.facts("mobile", DAY, B1=10, B2=10)
    build.target("mobile", "B1", 10)
    build.target("mobile", "B2", 20)
    build.rule("dep", "completion", "dep", 100)
    build.rule("mobile", "bonus", "mobile", 5)
    rs = recompute(build.campaign.pk, DAY)
    assert totals(build, rs) == {"B1": D("105"), "B2": D("50")}
    assert totals(build, rs, "bonus_points") == {"B1": D("5"), "B2": D("0")}


def test_bonus_proportional_mode(build):
    build.branches("B1")
    build.metric("mobile", figure="value_at_date", kind="count")
    build.facts("mobile", DAY, B1=6)
    build.target("mobile", "B1", 10)
    rule = build.rule("mobile", "bonus", "mobile", 5, params={"mode": "proportional"})
    assert rule_points(build, recompute(build.campaign.pk, DAY), rule) == {"B1": D("3")}


def test_parts_split_a_metrics_points_40_30_30(build):
    build.branches("B1", "B2")
    deposits(build, B1=1000, B2=500)
    build.metric("dep_avg", figure="value_at_date")
    build.facts("dep_avg", DAY, B1=100, B2=50)
    whole = build.rule("corp", "parts", None, 60)
    build.rule("corp_avg", "relative_to_best", "dep_avg", 24, parent=whole)
    build.rule("corp_bal", "relative_to_best", "dep", 18, parent=whole)
    build.rule("corp_rate", "completion", "dep", 18, parent=whole)
    rs = recompute(build.campaign.pk, DAY)
    # B2: 24 × 50/100 + 18 × 500/1000 + 18 × 0.5 = 12 + 9 + 9
    assert rule_points(build, rs, whole) == {"B1": D("60"), "B2": D("30")}
    assert totals(build, rs) == {"B1": D("60"), "B2": D("30")}


def test_bad_parameters_are_named(build):
    build.branches("B1")
    deposits(build, B1=1)
    with translation.override("en"), pytest.raises(ValidationError) as error:
        build.rule("x", "threshold", "dep", 5, params={"bar": "lots"})
    assert "bar" in str(error.value.message_dict["params"])
    with translation.override("en"), pytest.raises(ValidationError) as error:
        build.rule("y", "bands", "dep", 5, params={"bands": [{"from": 5, "points": 1}, {"from": 1, "points": 2}]})
    assert "increasing" in str(error.value.message_dict["params"])
    with pytest.raises(ValidationError) as error:
        build.rule("z", "completion", None, 5)
    assert "metric" in error.value.message_dict
