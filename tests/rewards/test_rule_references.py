"""A reward naming a ranking or metric its campaign does not have is an error, never a silent zero."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from branches import roles
from campaigns.campaign_file import CampaignFileError, export_campaign, import_campaign
from rewards import references, services
from rewards.models import PeriodKind, RewardRule, RewardScheme
from scoring.models import Ranking
from tests.conftest import make_user
from tests.rewards.conftest import Q1_END, Q1_START
from tests.scoring.conftest import Builder

TOP_THREE = {"by": {"rank": "overall"}, "order": "asc", "places": ["3000", "2000", "1000"], "payment": "at_end"}


@pytest.fixture
def campaign(db):
    build = Builder()
    build.branches("B1", "B2")
    build.metric("dep", figure="increase_over_base")
    build.rule("dep", "completion", "dep", 100)
    Ranking.objects.create(campaign=build.campaign, code="overall", name="综合排名")
    scheme = RewardScheme.objects.create(
        code="Q1-main", name="奖励", campaign_code=build.campaign.code, start=Q1_START, end=Q1_END
    )
    RewardRule.objects.create(scheme=scheme, code="top3", name="前三名", kind="rank_prize", params=TOP_THREE)
    return build.campaign


def test_a_rule_naming_an_unknown_ranking_is_refused_naming_the_rule_and_the_code(campaign):
    scheme = RewardScheme.objects.get(campaign_code=campaign.code)
    with pytest.raises(ValidationError) as error:
        RewardRule.objects.create(
            scheme=scheme, code="top3_old", name="前三名", kind="rank_prize", params={**TOP_THREE, "by": {"rank": "overal"}}
        )
    assert any("top3_old" in message and "overal" in message for message in error.value.messages)


def test_a_campaign_file_whose_reward_names_a_renamed_ranking_is_refused_with_the_place(campaign):
    doc = export_campaign(campaign)
    doc["rankings"][0]["code"] = "total"  # renamed in the file, the reward still reads "overall"
    with pytest.raises(CampaignFileError) as error:
        import_campaign(doc, code="Q1RENAMED")
    assert any(
        place == "rewards[0].rules[0].params" and "top3" in message and "overall" in message
        for place, message in error.value.errors
    )
    assert not RewardScheme.objects.filter(campaign_code="Q1RENAMED").exists()


def test_a_metric_code_the_campaign_lacks_is_refused_too(campaign):
    doc = export_campaign(campaign)
    doc["rewards"][0]["rules"][0]["params"]["conditions"] = [
        {"figure": {"metric": "deposits", "field": "completion"}, "op": ">=", "value": "1"}
    ]
    with pytest.raises(CampaignFileError) as error:
        import_campaign(doc, code="Q1METRIC")
    assert any("top3" in message and "deposits" in message for _place, message in error.value.errors)


def test_a_payout_run_is_refused_after_the_ranking_was_renamed(campaign):
    roles.ensure_role_groups()
    maker = make_user("finance_refs", roles.FINANCE)
    Ranking.objects.filter(campaign=campaign, code="overall").update(code="total")
    with pytest.raises(services.PayoutError) as error:
        services.create_payout_run(
            scheme=RewardScheme.objects.get(campaign_code=campaign.code),
            period_kind=PeriodKind.QUARTER,
            period_start=Q1_START,
            period_end=Q1_END,
            by=maker,
        )
    assert any("top3" in message and "overall" in message for message in error.value.messages)
    assert not RewardScheme.objects.get(campaign_code=campaign.code).runs.exists()


def test_a_payout_run_is_refused_while_a_rule_names_a_unit_that_does_not_exist(campaign):
    roles.ensure_role_groups()
    maker = make_user("finance_units", roles.FINANCE)
    scheme = RewardScheme.objects.get(campaign_code=campaign.code)
    RewardRule.objects.create(
        scheme=scheme,
        code="pairs",
        name="对手赛",
        kind="head_to_head",
        params={
            "pairs": [["B1", "B9"]],
            "by": {"metric": "dep", "field": "completion"},
            "completion": {"metric": "dep", "field": "completion"},
            "winner_amount": "1000",
            "loser_penalty": "500",
        },
    )
    with pytest.raises(services.PayoutError) as error:
        services.create_payout_run(
            scheme=scheme, period_kind=PeriodKind.QUARTER, period_start=Q1_START, period_end=Q1_END, by=maker
        )
    assert len(error.value.messages) == 1
    assert "pairs" in error.value.messages[0] and "B9" in error.value.messages[0]


def run_refused(scheme) -> list[str]:
    roles.ensure_role_groups()
    maker = make_user("finance_refs", roles.FINANCE)
    with pytest.raises(services.PayoutError) as error:
        services.create_payout_run(
            scheme=scheme, period_kind=PeriodKind.QUARTER, period_start=Q1_START, period_end=Q1_END, by=maker
        )
    assert not scheme.runs.exists()
    return error.value.messages


def test_a_payout_run_is_refused_while_a_rule_reads_an_indicator_not_in_the_catalogue(campaign):
    scheme = RewardScheme.objects.get(campaign_code=campaign.code)
    # Saved before the bank's catalogue has it (templates are imported first) …
    RewardRule.objects.create(
        scheme=scheme, code="pos", name="POS", kind="piece_rate",
        params={"figure": {"indicator": "POS_NEW", "measure": "increase"}, "rate": "100"},
    )
    # … refused at the run, naming the rule and the code.
    assert any("pos" in message and "POS_NEW" in message for message in run_refused(scheme))


def test_a_payout_run_is_refused_while_a_rule_reads_a_flag_the_campaign_does_not_know(campaign):
    scheme = RewardScheme.objects.get(campaign_code=campaign.code)
    RewardRule.objects.filter(code="top3").update(
        params={**TOP_THREE, "conditions": [{"figure": {"flag": "gren"}, "op": "==", "value": "1"}]}
    )
    Ranking.objects.filter(campaign=campaign, code="overall").update(required_flags=["green"])
    assert any("top3" in message and "gren" in message for message in run_refused(scheme))


def test_a_flag_declared_in_the_campaign_options_is_known_before_anyone_holds_it(campaign):
    scheme = RewardScheme.objects.get(campaign_code=campaign.code)
    RewardRule.objects.filter(code="top3").update(
        params={**TOP_THREE, "conditions": [{"figure": {"flag": "green"}, "op": "==", "value": "1"}]}
    )
    assert any("green" in message for message in run_refused(scheme))
    campaign.options = {**campaign.options, "flags": ["green"]}
    campaign.save(update_fields=["options"])
    assert not [message for message in references.scheme_problems(scheme) if "green" in message]


@pytest.mark.parametrize(
    ("figure", "field"),
    [({"items": ["TIME_1Y", "SHORT"], "among": ["TIME_1Y"], "above": "1"}, "figure.among")],
)
def test_item_kinds_outside_the_stacked_kinds_are_refused(campaign, figure, field):
    scheme = RewardScheme.objects.get(campaign_code=campaign.code)
    rule = RewardRule(scheme=scheme, code="x", name="x", kind="piece_rate", params={"figure": figure, "rate": "1"})
    with pytest.raises(ValidationError) as error:
        rule.full_clean()
    assert field in str(error.value) and "SHORT" in str(error.value)
