"""The campaign file carries reward schemes and rules; loading validates them and names the place."""

from __future__ import annotations

import pytest

from campaigns.campaign_file import CampaignFileError, dump_yaml, export_campaign, import_campaign
from rewards.models import RewardRule, RewardScheme
from tests.rewards.conftest import Q1_END, Q1_START
from tests.scoring.conftest import Builder

PIECE_RATE = {"figure": {"indicator": "dep", "measure": "increase"}, "rate": "1000", "per": "1000000"}


@pytest.fixture
def campaign_with_rewards(db):
    build = Builder()
    build.branches("B1", "B2")
    build.metric("dep", figure="increase_over_base")
    build.rule("dep", "completion", "dep", 100)
    scheme = RewardScheme.objects.create(
        code="Q1-main",
        name="奖励",
        campaign_code="Q1",
        start=Q1_START,
        end=Q1_END,
        budget="50000.00",
        scale_to_budget=True,
    )
    RewardRule.objects.create(
        scheme=scheme, code="A1", name="存款计件", kind="piece_rate", params=PIECE_RATE, stacking_group="trip"
    )
    return build.campaign


def test_rewards_round_trip_through_the_campaign_file(campaign_with_rewards):
    text = dump_yaml(campaign_with_rewards)
    assert "rewards:" in text and "piece_rate" in text
    copy = import_campaign(text, code="Q1COPY")
    scheme = RewardScheme.objects.get(campaign_code=copy.code)
    assert (scheme.code, str(scheme.budget), scheme.scale_to_budget) == ("Q1COPY-main", "50000.00", True)
    rule = scheme.rules.get()
    assert (rule.kind, rule.params, rule.stacking_group) == ("piece_rate", PIECE_RATE, "trip")


def test_bad_rule_in_the_file_is_reported_with_its_place(campaign_with_rewards):
    doc = export_campaign(campaign_with_rewards)
    doc["rewards"][0]["rules"][0]["params"]["rate"] = "a lot"
    with pytest.raises(CampaignFileError) as error:
        import_campaign(doc, code="Q1BAD")
    assert any(
        place == "rewards[0].rules[0].params" and "rate" in message for place, message in error.value.errors
    )
    assert not RewardScheme.objects.filter(campaign_code="Q1BAD").exists()
