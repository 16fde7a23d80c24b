"""The campaign file carries the new scoring settings: participant filters, phase and group rankings, gates."""

import datetime

from campaigns.campaign_file import export_campaign, import_campaign
from campaigns.models import Phase
from scoring.models import Gate, Ranking, ScoringRule
from tests.scoring.conftest import D


def test_filters_phase_group_rankings_and_staff_gates_survive_export_and_import(build):
    build.campaign.participant_level = "mixed"
    build.campaign.options = {"phase_figures": ["dep"], "carry_forward_balances": True}
    build.campaign.save()
    build.branches("B1", "B2")
    build.people("S1", unit="B1")
    build.metric("dep")
    build.metric("card")
    Phase.objects.create(campaign=build.campaign, code="P1", name="P1", start_date=datetime.date(2027, 1, 1),
                         end_date=datetime.date(2027, 1, 31), target_share=D("0.5"))
    zones = build.groups("zone", Z1=["B1"], Z2=["B2"])
    build.rule("dep", "completion", "dep", 100, participants={"level": "unit"})
    fields = {
        "basis": "metric_completion", "metric": build.metrics["dep"], "group_set": zones, "rank_groups": True,
        "group_aggregate": "completion_of_sums", "participants": {"level": "unit"}, "period": "phase", "phase": "P1",
        "only_groups": ["Z1", "Z2"],
    }
    Ranking.objects.create(campaign=build.campaign, code="zones", name="zones", **fields)
    Ranking.objects.create(campaign=build.campaign, code="dep", name="dep", basis="metric_figure",
                           metric=build.metrics["dep"], tie_break_metric="card")
    Gate.objects.create(campaign=build.campaign, code="card", name="card", kind="staff_below", metric=build.metrics["card"],
                        minimum=30, participants={"level": "staff"})

    copy = import_campaign(export_campaign(build.campaign), code="Q1-COPY")

    assert copy.participant_level == "mixed"
    assert copy.options == {"phase_figures": ["dep"], "carry_forward_balances": True}
    ranking = Ranking.objects.get(campaign=copy, code="zones")
    assert (ranking.rank_groups, ranking.group_aggregate, ranking.participants, ranking.period, ranking.phase,
            ranking.only_groups) == (True, "completion_of_sums", {"level": "unit"}, "phase", "P1", ["Z1", "Z2"])
    assert Ranking.objects.get(campaign=copy, code="dep").tie_break_metric == "card"
    assert ScoringRule.objects.get(campaign=copy, code="dep").participants == {"level": "unit"}
    gate = Gate.objects.get(campaign=copy, code="card")
    assert (gate.kind, gate.participants) == ("staff_below", {"level": "staff"})
    assert copy.participants.count() == 3
