"""Groups ranked against each other (war zones), only some groups, tie-break by a second figure, growth rate."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from branches.models import UnitKind
from scoring.engine import recompute
from scoring.models import Ranking
from scoring.selectors import group_leaderboard
from tests.scoring.conftest import D
from tests.scoring.helpers import figures, ranks

DAY = datetime.date(2027, 1, 31)


def zones(build):
    """War zone A = B1 (80 of 100) + B2 (90 of 200); zone B = B3 (50 of 80)."""
    build.branches("B1", "B2", "B3")
    build.metric("prem", figure="flow_sum")
    build.facts("prem", DAY, B1=80, B2=90, B3=50)
    for code, target in (("B1", 100), ("B2", 200), ("B3", 80)):
        build.target("prem", code, target)
    return build.groups("zone", A=["B1", "B2"], B=["B3"])


def ranking(build, code, **fields):
    r = Ranking(campaign=build.campaign, code=code, name=code, **fields)
    r.full_clean()
    r.save()
    return r


def test_war_zones_ranked_on_completion_of_sums(build):
    zone = zones(build)
    ranking(build, "zones", basis="metric_completion", metric=build.metrics["prem"], group_set=zone,
            rank_groups=True, group_aggregate="completion_of_sums")
    recompute(build.campaign.pk, DAY)
    rows = group_leaderboard(build.campaign.pk, DAY, "zones")
    # B: 50 ÷ 80 = 62.5 %; A: (80 + 90) ÷ (100 + 200) = 56.67 % (not the average of 80 % and 45 %)
    assert [(r.code, r.rank, round(r.value, 4), r.members) for r in rows] == [
        ("B", 1, D("0.625"), 1), ("A", 2, D("0.5667"), 2)
    ]
    assert (rows[1].actual_sum, rows[1].target_sum) == (170, 300)
    assert round(rows[1].gap_value, 4) == D("0.0583")


def test_war_zones_ranked_on_the_sum_of_figures(build):
    zone = zones(build)
    ranking(build, "zones", basis="metric_figure", metric=build.metrics["prem"], group_set=zone, rank_groups=True)
    recompute(build.campaign.pk, DAY)
    assert [(r.code, r.rank, r.value) for r in group_leaderboard(build.campaign.pk, DAY, "zones")] == [("A", 1, 170), ("B", 2, 50)]


def test_completion_of_sums_needs_a_completion_ranking(build):
    zone = zones(build)
    with pytest.raises(ValidationError) as caught:
        ranking(build, "zones", basis="metric_figure", metric=build.metrics["prem"], group_set=zone,
                rank_groups=True, group_aggregate="completion_of_sums")
    assert "group_aggregate" in caught.value.message_dict


def test_only_named_groups_are_ranked(build):
    build.branches("B1", "B2")
    build.branches("O1", "O2", kind=UnitKind.OUTLET)
    build.metric("dep")
    build.facts("dep", DAY, B1=5, B2=9, O1=7, O2=3)
    kinds = build.groups("kind", direct=["B1", "B2"], outlets=["O1", "O2"])
    outlets = ranking(build, "outlets", basis="metric_figure", metric=build.metrics["dep"], group_set=kinds, only_groups=["outlets"])
    assert ranks(build, recompute(build.campaign.pk, DAY), outlets) == {"O1": 1, "O2": 2}


def test_only_groups_names_unknown_codes(build):
    build.branches("B1")
    kinds = build.groups("kind", direct=["B1"])
    with pytest.raises(ValidationError) as caught:
        ranking(build, "x", group_set=kinds, only_groups=["nowhere"])
    assert "nowhere" in caught.value.message_dict["only_groups"][0]


def test_tie_broken_by_a_second_figure(build):
    build.branches("B1", "B2", "B3")
    build.metric("dep")
    build.metric("loans")
    build.facts("dep", DAY, B1=100, B2=100, B3=50)
    build.facts("loans", DAY, B1=5, B2=8)
    tied = ranking(build, "tied", basis="metric_figure", metric=build.metrics["dep"], tie_break_metric="loans")
    plain = ranking(build, "plain", basis="metric_figure", metric=build.metrics["dep"])
    result = recompute(build.campaign.pk, DAY)
    assert ranks(build, result, tied) == {"B2": 1, "B1": 2, "B3": 3}
    assert ranks(build, result, plain) == {"B1": 1, "B2": 1, "B3": 3}


def test_growth_rate_over_the_base_against_a_planned_rate(build):
    build.branches("B1", "B2")
    build.metric("dep", figure="growth_rate")
    build.facts("dep", DAY, B1=1150, B2=500)
    build.target("dep", "B1", "0.10", base=1000)
    build.target("dep", "B2", "0.10", base=0)
    result = recompute(build.campaign.pk, DAY)
    assert figures(build, result, "dep") == {"B1": D("0.15"), "B2": None}  # a base of 0 has no rate
    assert figures(build, result, "dep", "completion") == {"B1": D("1.5"), "B2": None}


def test_groups_ranked_against_each_other_refuse_a_tie_break_metric(build):
    zone = zones(build)
    with pytest.raises(ValidationError) as caught:
        ranking(build, "zones", basis="metric_figure", metric=build.metrics["prem"], group_set=zone,
                rank_groups=True, tie_break_metric="prem")
    assert "tie_break_metric" in caught.value.message_dict
