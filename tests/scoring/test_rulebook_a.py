"""Rulebook A in small: 45 / 22 / 8 / 5 / 20 points, three branches, figures to the end of February.

| branch | deposits (inc ÷ target) | interest | NPL recovered | card deposits | collection Jan / Feb | total |
| B1 | 900 ÷ 1000 → 40.5 | 500 ÷ 1000 → 11 | 100 ÷ 100 → 8 | 60 ÷ 50 capped → 5 | 97 % → 20, 96 % → 0: 10 | 74.5 |
| B2 | 1500 ÷ 1000 capped → 45 | 1000 ÷ 1000 → 22 | 100 ÷ 100 → 8 | 50 ÷ 50 → 5 | 99 %, 98 %: 20 | 100 |
| B3 | 0 → 0 | 250 ÷ 1000 → 5.5 | 0 → 0 | −10 → 0 | 100 %, no loans due: 10 | 15.5 |
"""

import datetime

import pytest
from django.utils import translation

from campaigns.services import publish_campaign
from scoring.engine import recompute
from scoring.models import Ranking
from scoring.selectors import leaderboard, participant_scores
from tests.scoring.conftest import D
from tests.scoring.helpers import totals

JAN_15, FEB_15, FEB_28 = datetime.date(2027, 1, 15), datetime.date(2027, 2, 15), datetime.date(2027, 2, 28)


@pytest.fixture
def county(build):
    b = build.branches("B1", "B2", "B3")
    b.campaign.status = "draft"
    b.campaign.save()
    b.metric("dep", figure="increase_over_base")
    b.metric("interest", figure="flow_sum", kind="flow")
    b.metric("npl", figure="flow_sum", kind="flow")
    b.metric("card", figure="increase_over_base")
    b.metric("collect", figure="ratio_of_sums", numerator="collected", denominator="due")
    for code, dep, card in (("B1", 1900, 160), ("B2", 2500, 150), ("B3", 1000, 90)):
        b.fact("dep", code, FEB_28, dep)
        b.fact("card", code, FEB_28, card)
        b.target("dep", code, 1000, base=1000)
        b.target("card", code, 50, base=100)
        b.target("interest", code, 1000)
        b.target("npl", code, 100)
    b.facts("interest", JAN_15, B1=300, B2=600, B3=250)
    b.facts("interest", FEB_15, B1=200, B2=400)
    b.facts("npl", FEB_15, B1=100, B2=100)
    b.facts("collected", JAN_15, B1=97, B2=99, B3=100)
    b.facts("due", JAN_15, B1=100, B2=100, B3=100)
    b.facts("collected", FEB_15, B1=96, B2=98)
    b.facts("due", FEB_15, B1=100, B2=100)
    b.rule("dep", "completion", "dep", 45)
    b.rule("interest", "completion", "interest", 22)
    b.rule("npl", "completion", "npl", 8)
    b.rule("card", "completion", "card", 5)
    b.rule("collect", "threshold", "collect", 20, params={"bar": "0.97"}, evaluation="monthly", monthly_combine="average")
    Ranking.objects.create(campaign=b.campaign, code="overall", name="总排名", bottom_n=1)
    Ranking.objects.create(campaign=b.campaign, code="prize", name="前五名奖", top_n=5, required_flags=["met_all_targets"])
    publish_campaign(b.campaign)
    return b


def test_rulebook_a_totals_by_hand(county):
    rs = recompute(county.campaign.pk, FEB_28)
    assert totals(county, rs) == {"B1": D("74.5"), "B2": D("100"), "B3": D("15.5")}


def test_rulebook_a_overall_ranking_and_gaps(county):
    recompute(county.campaign.pk, FEB_28)
    board = leaderboard(county.campaign.pk, FEB_28, "overall")
    assert [(r.code, r.rank, r.gap_points) for r in board] == [("B2", 1, None), ("B1", 2, D("25.5")), ("B3", 3, D("59"))]
    assert [r.code for r in board if r.in_bottom] == ["B3"]


def test_rulebook_a_rank_prizes_only_for_branches_meeting_every_target(county):
    recompute(county.campaign.pk, FEB_28)
    assert [r.code for r in leaderboard(county.campaign.pk, FEB_28, "prize")] == ["B2"]


def test_rulebook_a_every_point_is_explained(county):
    recompute(county.campaign.pk, FEB_28)
    with translation.override("en"):
        scores = participant_scores(county.campaign.pk, FEB_28, county.participants["B1"].pk)
    lines = {line.code: line for line in scores.rules}
    assert lines["dep"].explanation == "45 × completion 90.00% (actual 900 ÷ target 1000, counted between 0.00% and 100.00%) = 40.5"
    assert [m["points"] for m in lines["collect"].months] == [D("20"), D("0")]
    assert sum(line.points for line in scores.rules) == scores.total_points == D("74.5")
