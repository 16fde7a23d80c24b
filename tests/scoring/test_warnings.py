"""Warning gates (shown, not scored), ceilings, shares of another metric, and "not:" flags on rankings."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from scoring.engine import recompute
from scoring.models import Gate, Ranking
from scoring.selectors import leaderboard, participant_scores
from tests.scoring.conftest import D
from tests.scoring.helpers import ranks, totals

DAY = datetime.date(2027, 1, 31)


def gate(build, code, **fields):
    g = Gate(campaign=build.campaign, code=code, name=code, **fields)
    g.full_clean()
    g.save()
    return g


@pytest.fixture
def campaign(build):
    build.branches("B1", "B2", "B3")
    build.metric("dep", figure="increase_over_base")
    build.metric("loans", figure="increase_over_base")
    build.facts("dep", datetime.date(2026, 12, 31), B1=1000, B2=1000, B3=1000)
    build.facts("loans", datetime.date(2026, 12, 31), B1=500, B2=500, B3=500)
    # new deposits 100 / 100 / −50; new loans 80 / 60 / 10
    build.facts("dep", DAY, B1=1100, B2=1100, B3=950)
    build.facts("loans", DAY, B1=580, B2=560, B3=510)
    for unit in ("B1", "B2", "B3"):
        build.target("dep", unit, 100)
    build.rule("dep", "completion", "dep", 100)
    Ranking.objects.create(campaign=build.campaign, code="overall", name="overall")
    return build


def test_a_ceiling_on_a_share_of_another_metric_warns_and_changes_nothing(campaign):
    gate(campaign, "loan_ceiling", kind="metric_above", effect="warn", metric=campaign.metrics["loans"],
         per_metric=campaign.metrics["dep"], maximum=D("0.70"))
    result_set = recompute(campaign.campaign.pk, DAY)
    # B1 lends 80 % of its new deposits; B3's deposits fell while it lent 10: both above the ceiling
    rows = {row.code: row.warnings for row in leaderboard(campaign.campaign.pk, DAY, "overall")}
    assert rows == {"B1": ["loan_ceiling"], "B2": [], "B3": ["loan_ceiling"]}
    assert totals(campaign, result_set, "vetoed") == {"B1": False, "B2": False, "B3": False}
    assert ranks(campaign, result_set, Ranking.objects.get(code="overall")) == {"B1": 1, "B2": 1, "B3": 3}
    scores = participant_scores(campaign.campaign.pk, DAY, campaign.participants["B3"].pk)
    assert (scores.warnings, scores.vetoed_by) == (["loan_ceiling"], [])


def test_a_ceiling_that_vetoes_takes_the_participant_out_of_the_rankings(campaign):
    gate(campaign, "loans_cap", kind="metric_above", metric=campaign.metrics["loans"], maximum=D("70"))
    result_set = recompute(campaign.campaign.pk, DAY)
    assert totals(campaign, result_set, "vetoed") == {"B1": True, "B2": False, "B3": False}
    assert ranks(campaign, result_set, Ranking.objects.get(code="overall")) == {"B2": 1, "B3": 2}


def test_no_figure_is_never_above_a_ceiling(build):
    build.branches("B1")
    build.metric("loans")
    gate(build, "cap", kind="metric_above", effect="warn", metric=build.metrics["loans"], maximum=D("1"))
    Ranking.objects.create(campaign=build.campaign, code="overall", name="overall")
    recompute(build.campaign.pk, DAY)
    assert [row.warnings for row in leaderboard(build.campaign.pk, DAY, "overall")] == [[]]


def test_a_ceiling_needs_its_maximum_and_only_figures_divide(campaign):
    with pytest.raises(ValidationError) as error:
        gate(campaign, "cap", kind="metric_above", metric=campaign.metrics["loans"])
    assert "maximum" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        gate(campaign, "flagged", kind="flag", flag="green", per_metric=campaign.metrics["dep"])
    assert "per_metric" in error.value.message_dict


def test_not_before_a_flag_ranks_only_those_without_it(campaign):
    campaign.target("loans", "B1", 50)
    campaign.target("loans", "B2", 100)
    campaign.rule("loans", "completion", "loans", 0)
    missed = Ranking(campaign=campaign.campaign, code="missed", name="missed", required_flags=["not:met:loans"])
    missed.full_clean()
    missed.save()
    # B1 met its loan target (80 ≥ 50), B2 did not (60 < 100), B3 has no loan target (never met)
    assert ranks(campaign, recompute(campaign.campaign.pk, DAY), missed) == {"B2": 1, "B3": 2}


def test_a_required_flag_naming_an_unknown_metric_is_refused(campaign):
    for flags in (["met:nope"], ["not:met:nope"], ["not:"]):
        ranking = Ranking(campaign=campaign.campaign, code="r", name="r", required_flags=flags)
        with pytest.raises(ValidationError) as error:
            ranking.full_clean()
        assert "required_flags" in error.value.message_dict
