"""The campaign file carries reward schemes and rules; loading validates them and names the place."""

from __future__ import annotations

import datetime

import pytest

from campaigns.campaign_file import (
    CampaignFileError,
    dump_yaml,
    export_campaign,
    import_campaign,
    load_template,
)
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


def _rule_params(campaign) -> dict:
    scheme = RewardScheme.objects.get(campaign_code=campaign.code)
    return dict(scheme.rules.values_list("code", "params"))


def test_dates_in_reward_rules_move_with_the_campaign_by_whole_months(db):
    doc = load_template("d-staff-deposit-assessment")
    doc["rewards"][0].update(start="2027-01-01", end="2027-03-31")
    # A rule limited to February (the template's rules run all quarter).
    teller = next(rule for rule in doc["rewards"][0]["rules"] if rule["code"] == "teller_excess")
    teller["params"]["period"] = {"start": "2027-02-01", "end": "2027-02-28"}
    campaign = import_campaign(doc, code="D-2028", start_date=datetime.date(2028, 1, 1))
    scheme = RewardScheme.objects.get(campaign_code=campaign.code)
    assert (scheme.start, scheme.end) == (datetime.date(2028, 1, 1), datetime.date(2028, 3, 31))
    params = _rule_params(campaign)
    # February's last day stays its last day in a leap year.
    assert params["teller_excess"]["period"] == {"start": "2028-02-01", "end": "2028-02-29"}
    assert params["rank1_streak"]["figure"]["before"]["on"] == "2027-12-31"
    # Numbers that are not dates stay as they were.
    assert params["monthly_pay"]["bands"][1]["from"] == "350000"


def test_dates_in_reward_rules_move_by_days_when_the_day_of_the_month_changes(db):
    campaign = import_campaign(
        load_template("c-insurance-agents"), code="C-2027-LATE", start_date=datetime.date(2027, 1, 4)
    )
    params = _rule_params(campaign)
    assert params["first_sale_day"]["period"] == {"start": "2027-01-04", "end": "2027-01-07"}
    assert params["gift_fyp"]["period"] == {"start": "2027-01-04", "end": "2027-02-03"}
    # The first-sale week is paid for its phase, which moves with the campaign's phases.
    assert params["first_week_bonus"]["period"] == {"phase": "first_week"}
    week = campaign.phases.get(code="first_week")
    assert (week.start_date, week.end_date) == (datetime.date(2027, 1, 4), datetime.date(2027, 1, 10))


def test_an_unquoted_date_in_the_file_is_stored_as_a_date_string(campaign_with_rewards):
    doc = export_campaign(campaign_with_rewards)
    doc["rewards"][0]["rules"][0]["params"]["period"] = {"start": datetime.date(2027, 2, 1)}
    copy = import_campaign(doc, code="Q1DATES")
    params = RewardScheme.objects.get(campaign_code=copy.code).rules.get().params
    assert params["period"] == {"start": "2027-02-01"}
