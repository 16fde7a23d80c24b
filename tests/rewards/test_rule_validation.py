"""Rule parameters that would silently do nothing are refused when the rule is saved, the error
naming the field: an others' share nobody is told apart for, and a rule paying on a figure that
has one value for everyone (it lists no subjects, so nobody would be paid); and a payout run
while a rule still holds a template's placeholder values."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from branches.models import SubjectKind
from campaigns.campaign_file import load_template
from rewards.models import LineKind, RewardRule
from rewards.services import PayoutError
from tests.rewards.conftest import FEB_END, JAN_END, pay, put_facts

STAFF_FIGURE = {"indicator": "DEP", "measure": "value", "level": "staff"}
HO_FIGURE = {"of_unit": "HO", "figure": {"indicator": "DEP", "measure": "increase"}}


def refused(scheme, kind: str, params: dict) -> str:
    rule = RewardRule(scheme=scheme, code="x", name="x", kind=kind, params=params)
    with pytest.raises(ValidationError) as error:
        rule.full_clean()
    return str(error.value)


def accepted(scheme, kind: str, params: dict) -> None:
    RewardRule(scheme=scheme, code="x", name="x", kind=kind, params=params).full_clean()


BANDS = {"bands": [{"from": "0", "amount": "100"}]}


def test_an_others_share_without_full_share_if_is_refused(scheme):
    assert "others_share" in refused(scheme, "threshold_bands", {"figure": STAFF_FIGURE, **BANDS, "others_share": "0.9"})
    accepted(scheme, "threshold_bands", {"figure": STAFF_FIGURE, **BANDS, "others_share": "1"})
    accepted(
        scheme,
        "threshold_bands",
        {"figure": STAFF_FIGURE, **BANDS, "others_share": "0.9",
         "full_share_if": [{"figure": {"rank": "R", "level": "staff"}, "op": "<=", "value": "1"}]},
    )


@pytest.mark.parametrize(
    ("kind", "params", "field"),
    [
        ("piece_rate", {"figure": {"constant": "30"}, "rate": "1"}, "figure"),
        ("piece_rate", {"figure": {"working_days": "period", "times": "50"}, "rate": "1"}, "figure"),
        ("threshold_bands", {"figure": HO_FIGURE, **BANDS}, "figure"),
        ("threshold_bands", {"figure": {"ratio": [HO_FIGURE, {"constant": "2"}]}, **BANDS}, "figure"),
        ("completion_bonus", {"completion": {"constant": "1"}, "amount": "500"}, "completion"),
        ("rank_prize", {"by": HO_FIGURE, "places": ["100"]}, "by"),
        ("title", {"by": {"constant": "1"}, "top_n": 3, "award": "x"}, "by"),
        ("shortfall_penalty", {"figure": {"constant": "1"}, "target": {"constant": "2"}, "rate": "1"}, "figure"),
    ],
)
def test_a_rule_paying_on_one_value_for_everyone_is_refused_naming_the_figure(scheme, kind, params, field):
    with translation.override("en"):
        message = refused(scheme, kind, params)
    assert f"{field}: this figure has one value for everyone" in message


def test_one_value_for_everyone_stays_allowed_in_conditions_and_bars(scheme):
    accepted(
        scheme,
        "piece_rate",
        {"figure": STAFF_FIGURE, "rate": "1", "above": {"working_days": "period", "times": "50"},
         "conditions": [{"figure": HO_FIGURE, "op": ">=", "value": "1"}]},
    )
    accepted(scheme, "threshold_bands", {"figure": {"ratio": [STAFF_FIGURE, {"constant": "2"}]}, **BANDS})


def rules_of(template: str) -> dict[str, dict]:
    return {rule["code"]: rule["params"] for rule in load_template(template)["rewards"][0]["rules"]}


def test_templates_mark_the_values_they_make_up_as_placeholders():
    assert rules_of("c-insurance-agents")["first_sale_day"]["placeholders"] == ["bands", "cancelled_within_days"]
    assert rules_of("d-staff-deposit-assessment")["head_office_bank_task"]["placeholders"] == ["conditions[0].value"]


def test_a_payout_run_is_refused_while_a_placeholder_is_unreplaced_naming_the_rule(scheme, finance):
    put_facts("DEP", [])
    rule = RewardRule.objects.create(
        scheme=scheme, code="gift", name="gift", kind="threshold_bands",
        params={"figure": STAFF_FIGURE, **BANDS, "placeholders": ["bands"]},
    )
    with pytest.raises(PayoutError) as error:
        pay(scheme, finance, JAN_END)
    assert any("gift" in message and "bands" in message for message in error.value.messages)
    assert not scheme.runs.exists()
    rule.params = {"figure": STAFF_FIGURE, "bands": [{"from": "0", "amount": "80"}]}  # the planner's real band
    rule.save()
    assert pay(scheme, finance, JAN_END).state == "locked"


def test_placeholders_must_name_the_rules_parameters(scheme):
    assert "placeholders" in refused(scheme, "threshold_bands", {"figure": STAFF_FIGURE, **BANDS, "placeholders": ["band"]})


def test_a_penalty_in_bands_reversed_later_is_a_penalty_adjustment(small_bank, scheme, finance):
    # E002's rate: 0.5 on 31 January (below 1: −500), 1.2 on 28 February (met: the penalty falls away).
    put_facts("RATE", [(small_bank["s2"], JAN_END, "0.5"), (small_bank["s2"], FEB_END, "1.2")], level=SubjectKind.STAFF)
    rate = {"indicator": "RATE", "measure": "value", "level": "staff"}
    RewardRule.objects.create(
        scheme=scheme, code="miss", name="miss", kind="threshold_bands",
        params={"figure": rate, "penalty": True, "bands": [{"from": "0", "amount": "-500"}],
                "conditions": [{"figure": rate, "op": "<", "value": "1"}]},
    )
    january = pay(scheme, finance, JAN_END)
    assert [(line.kind, line.amount) for line in january.lines.all()] == [(LineKind.PENALTY, Decimal("-500.00"))]
    february = pay(scheme, finance, FEB_END)
    assert [(line.kind, line.amount) for line in february.lines.all()] == [(LineKind.ADJUSTMENT, Decimal("500.00"))]


def test_a_penalty_in_bands_refuses_a_positive_band(scheme):
    assert "bands[0].amount" in refused(
        scheme, "threshold_bands", {"figure": STAFF_FIGURE, "penalty": True, "bands": [{"from": "0", "amount": "500"}]}
    )
