import datetime

from scoring.engine import recompute
from scoring.models import RuleScore
from tests.scoring.conftest import D


def test_completion_rule_scores_points_times_rate(build):
    build.branches("B1", "B2")
    build.metric("dep", figure="increase_over_base")
    build.facts("dep", datetime.date(2027, 1, 31), B1=1800, B2=3000)
    build.target("dep", "B1", 1000, base=1000)
    build.target("dep", "B2", 1000, base=1000)
    rule = build.rule("dep", "completion", "dep", 45)
    rs = recompute(build.campaign.pk, datetime.date(2027, 1, 31))
    points = dict(RuleScore.objects.filter(result_set_id=rs.pk, rule_id=rule.pk).values_list("participant_id", "points"))
    assert points == {build.participants["B1"].pk: D("36"), build.participants["B2"].pk: D("45")}
