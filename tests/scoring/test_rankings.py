"""Rankings: ties, groups, eligibility floors, flags, gates, top/bottom N, movement and gaps."""

import datetime

from scoring.engine import recompute
from scoring.models import Gate, Ranking
from scoring.selectors import leaderboard
from scoring.services import set_flag
from tests.scoring.conftest import D
from tests.scoring.helpers import ranks

DAY = datetime.date(2027, 1, 31)


def scored(build, **increases):
    """One metric, target 100 each, completion × 100 points: a branch's score equals its increase (≤ 100)."""
    build.branches(*increases)
    build.metric("dep", figure="increase_over_base")
    for code, increase in increases.items():
        build.fact("dep", code, DAY, 1000 + increase)
        build.target("dep", code, 100, base=1000)
    build.rule("dep", "completion", "dep", 100)


def ranking(build, code="overall", **fields):
    r = Ranking(campaign=build.campaign, code=code, name=code, **fields)
    r.full_clean()
    r.save()
    return r


def test_competition_ranking_ties_1_2_2_4(build):
    scored(build, B1=90, B2=80, B3=80, B4=70)
    overall = ranking(build)
    assert ranks(build, recompute(build.campaign.pk, DAY), overall) == {"B1": 1, "B2": 2, "B3": 2, "B4": 4}


def test_dense_ranking_ties_1_2_2_3(build):
    scored(build, B1=90, B2=80, B3=80, B4=70)
    overall = ranking(build, tie_break="dense")
    assert ranks(build, recompute(build.campaign.pk, DAY), overall) == {"B1": 1, "B2": 2, "B3": 2, "B4": 3}


def test_ordinal_ranking_puts_the_earlier_participant_first(build):
    scored(build, B1=90, B2=80, B3=80, B4=70)
    overall = ranking(build, tie_break="ordinal")
    assert ranks(build, recompute(build.campaign.pk, DAY), overall) == {"B1": 1, "B2": 2, "B3": 3, "B4": 4}


def test_ranking_within_each_region(build):
    scored(build, B1=90, B2=80, B3=70, B4=95)
    regions = build.groups("region", east=["B1", "B2"], west=["B3", "B4"])
    per_region = ranking(build, group_set=regions)
    assert ranks(build, recompute(build.campaign.pk, DAY), per_region) == {"B1": 1, "B2": 2, "B3": 2, "B4": 1}
    assert [row.code for row in leaderboard(build.campaign.pk, DAY, "overall", group="west")] == ["B4", "B3"]


def test_largest_ranks_by_the_figure_fastest_by_completion(build):
    build.branches("B1", "B2")
    build.metric("prem", figure="flow_sum")
    build.facts("prem", DAY, B1=3_000_000, B2=1_200_000)
    build.target("prem", "B1", 10_000_000)
    build.target("prem", "B2", 2_000_000)
    largest = ranking(build, "largest", basis="metric_figure", metric=build.metrics["prem"])
    fastest = ranking(build, "fastest", basis="metric_completion", metric=build.metrics["prem"])
    rs = recompute(build.campaign.pk, DAY)
    assert ranks(build, rs, largest) == {"B1": 1, "B2": 2}
    assert ranks(build, rs, fastest) == {"B1": 2, "B2": 1}  # 30 % vs 60 %


def test_eligibility_floors_filter_before_ranking(build):
    build.branches("B1", "B2", "B3")
    build.metric("prem", figure="flow_sum")
    build.facts("prem", DAY, B1=5_000_000, B2=3_000_000, B3=2_900_000)
    build.target("prem", "B1", 12_000_000)  # 41.7 % year progress: below 45 %
    build.target("prem", "B2", 6_000_000)  # 50 %
    build.target("prem", "B3", 5_000_000)  # 58 %, but below 3,000,000
    strongest = ranking(
        build, "strongest", basis="metric_figure", metric=build.metrics["prem"],
        eligibility=[{"metric": "prem", "on": "figure", "min": "3000000"}, {"metric": "prem", "on": "completion", "min": "0.45"}],
    )
    assert ranks(build, recompute(build.campaign.pk, DAY), strongest) == {"B2": 1}


def test_top_n_and_bottom_n_are_marked(build):
    scored(build, B1=90, B2=80, B3=70, B4=60, B5=50)
    overall = ranking(build, top_n=2, bottom_n=2)
    rs = recompute(build.campaign.pk, DAY)
    assert {k for k, v in ranks(build, rs, overall, "in_top").items() if v} == {"B1", "B2"}
    assert {k for k, v in ranks(build, rs, overall, "in_bottom").items() if v} == {"B4", "B5"}


def test_bottom_n_with_a_tie_at_the_cut_includes_everyone_tied(build):
    scored(build, B1=90, B2=60, B3=60, B4=50)
    overall = ranking(build, bottom_n=2)
    rs = recompute(build.campaign.pk, DAY)
    assert {k for k, v in ranks(build, rs, overall, "in_bottom").items() if v} == {"B2", "B3", "B4"}


def test_gap_to_the_next_place_in_points_and_in_the_metrics_terms(build):
    scored(build, B1=90, B2=80, B3=80, B4=65)
    overall = ranking(build)
    largest = ranking(build, "largest", basis="metric_figure", metric=build.metrics["dep"], rule=build.campaign.rules.get())
    rs = recompute(build.campaign.pk, DAY)
    assert ranks(build, rs, overall, "gap_points") == {"B1": None, "B2": D("10"), "B3": D("10"), "B4": D("15")}
    assert ranks(build, rs, largest, "gap_value") == {"B1": None, "B2": D("10"), "B3": D("10"), "B4": D("15")}
    assert ranks(build, rs, largest, "gap_points") == {"B1": None, "B2": D("10"), "B3": D("10"), "B4": D("15")}


def test_movement_against_the_previous_day(build):
    scored(build, B1=90, B2=80)
    ranking(build)
    recompute(build.campaign.pk, DAY)
    build.fact("dep", "B2", DAY + datetime.timedelta(days=1), 1095)
    build.fact("dep", "B1", DAY + datetime.timedelta(days=1), 1090)
    recompute(build.campaign.pk, DAY + datetime.timedelta(days=1))
    board = {row.code: row for row in leaderboard(build.campaign.pk, DAY + datetime.timedelta(days=1), "overall")}
    assert (board["B2"].rank, board["B2"].previous_rank, board["B2"].movement) == (1, 2, 1)
    assert board["B1"].movement == -1


def test_met_every_target_flag_limits_a_prize_ranking(build):
    scored(build, B1=90, B2=100, B3=120)
    prize = ranking(build, "prize", required_flags=["met_all_targets"])
    assert ranks(build, recompute(build.campaign.pk, DAY), prize) == {"B2": 1, "B3": 1}


def test_met_target_x_flag(build):
    scored(build, B1=90, B2=100)
    single = ranking(build, "single", basis="metric_completion", metric=build.metrics["dep"], required_flags=["met:dep"])
    assert ranks(build, recompute(build.campaign.pk, DAY), single) == {"B2": 1}


def test_planner_eligibility_flag_such_as_green_rating(build):
    scored(build, B1=90, B2=80)
    set_flag(participant=build.participants["B2"], code="green")
    trips = ranking(build, "trips", required_flags=["green"])
    assert ranks(build, recompute(build.campaign.pk, DAY), trips) == {"B2": 1}


def test_veto_removes_a_participant_from_named_rankings_only(build):
    scored(build, B1=90, B2=80)
    overall = ranking(build)
    prize = ranking(build, "prize")
    gate = Gate.objects.create(campaign=build.campaign, code="falsified", name="造假", kind="flag", flag="falsified")
    gate.rankings.add(prize)
    set_flag(participant=build.participants["B1"], code="falsified")
    rs = recompute(build.campaign.pk, DAY)
    assert ranks(build, rs, prize) == {"B2": 1}
    assert ranks(build, rs, overall) == {"B1": 1, "B2": 2}


def test_veto_on_a_figure_below_a_floor_applies_to_every_ranking_when_none_named(build):
    scored(build, B1=90, B2=80)
    build.metric("collect", figure="ratio_of_sums", numerator="collected", denominator="due")
    build.facts("collected", DAY, B1=90, B2=99)
    build.facts("due", DAY, B1=100, B2=100)
    Gate.objects.create(
        campaign=build.campaign, code="collect", name="收回率", kind="metric_below",
        metric=build.metrics["collect"], minimum=D("0.95"),
    )
    overall = ranking(build)
    assert ranks(build, recompute(build.campaign.pk, DAY), overall) == {"B2": 1}


def test_monthly_ranking_on_the_current_months_daily_average(build):
    build.branches("B1", "B2")
    build.metric("dep", figure="daily_average")
    build.facts("dep", datetime.date(2027, 1, 15), B1=3100, B2=0)  # January: B1 ahead (100 vs 0 a day)
    build.facts("dep", datetime.date(2027, 2, 1), B1=10, B2=20)  # February so far: B2 ahead
    month = ranking(build, "month_avg", basis="metric_figure", metric=build.metrics["dep"], period="month")
    campaign = ranking(build, "campaign_avg", basis="metric_figure", metric=build.metrics["dep"])
    rs = recompute(build.campaign.pk, datetime.date(2027, 2, 1))
    assert ranks(build, rs, month) == {"B2": 1, "B1": 2}
    assert ranks(build, rs, month, "value") == {"B1": D("10"), "B2": D("20")}
    assert ranks(build, rs, campaign) == {"B1": 1, "B2": 2}
