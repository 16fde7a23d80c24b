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
from rewards.models import LineKind, PeriodKind, RewardRule
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
    # Every value of a trip in C is made up (the source gives none), and decides which trip
    # survives the non-stacking: each one is marked. The awards that stack (summit, meeting place,
    # 39强, 39快) carry no value: it would decide nothing, and a placeholder there would block every
    # run for nothing.
    rules = {rule["code"]: rule for rule in load_template("c-insurance-agents")["rewards"][0]["rules"]}
    valued = {code for code, rule in rules.items() if "value" in rule["params"]}
    assert valued == {"top300_trip", "fenjin_trip", "supervisor_108_trip"}
    assert all(rules[code].get("stacking_group") == "trip" for code in valued)
    assert all("value" in rules[code]["params"]["placeholders"] for code in valued)
    for code in ("summit", "org_dev_place", "strong_39", "fast_39"):
        assert not rules[code].get("stacking_group") and "placeholders" not in rules[code]["params"], code


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


def test_a_condition_bound_to_positions_binds_only_staff_holding_them(scheme, finance, small_bank):
    """C's "supervisors must be rated green": s2 (supervisor, not green) is refused, s3 (agent,
    not green) and s1 (supervisor, green) are paid."""
    from branches.models import Position, StaffAssignment, SubjectKind
    from tests.rewards.conftest import Q1_END, Q1_START, pay, put_facts

    s1, s2, s3 = small_bank["s1"], small_bank["s2"], small_bank["s3"]
    StaffAssignment.objects.filter(staff__in=[s1, s2]).update(position=Position.SUPERVISOR)
    StaffAssignment.objects.filter(staff=s3).update(position=Position.AGENT)
    put_facts("PREM", [(s, Q1_END, 100) for s in (s1, s2, s3)], level=SubjectKind.STAFF)
    put_facts("GREEN", [(s1, Q1_END, 1)], level=SubjectKind.STAFF)
    RewardRule.objects.create(
        scheme=scheme,
        code="TRIP",
        name="旅游",
        kind="title",
        params={
            "by": {"indicator": "PREM", "measure": "sum", "level": "staff"},
            "award": "trip",
            "payment": "at_end",
            "conditions": [
                {"figure": {"indicator": "GREEN", "level": "staff"}, "op": "==", "value": "1", "positions": ["supervisor"]}
            ],
        },
    )
    quarter = pay(scheme, finance, Q1_END, kind=PeriodKind.QUARTER, start=Q1_START)
    assert sorted(quarter.lines.values_list("employee_no", flat=True)) == ["E001", "E003"]


@pytest.mark.parametrize(
    ("condition", "field"),
    [
        ({"positions": ["captain"]}, "conditions[0].positions"),
        ({"positions": "supervisor"}, "conditions[0].positions"),
    ],
)
def test_a_condition_bound_to_unknown_positions_is_refused(scheme, condition, field):
    rule = RewardRule(
        scheme=scheme,
        code="x",
        name="x",
        kind="title",
        params={
            "by": {"indicator": "PREM", "level": "staff"},
            "award": "x",
            "conditions": [{"figure": {"indicator": "GREEN", "level": "staff"}, "value": "1", **condition}],
        },
    )
    with pytest.raises(ValidationError, match=field.replace("[", r"\[").replace("]", r"\]")):
        rule.full_clean()


def test_a_unit_rule_cannot_bind_a_condition_to_positions(scheme):
    rule = RewardRule(
        scheme=scheme,
        code="x",
        name="x",
        kind="title",
        params={
            "by": {"indicator": "PREM"},
            "award": "x",
            "conditions": [{"figure": {"indicator": "GREEN"}, "value": "1", "positions": ["supervisor"]}],
        },
    )
    with pytest.raises(ValidationError, match=r"conditions\[0\]\.positions"):
        rule.full_clean()
