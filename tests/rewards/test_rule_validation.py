"""Rule parameters that would silently do nothing are refused when the rule is saved, the error
naming the field: an others' share nobody is told apart for, and a rule paying on a figure that
has one value for everyone (it lists no subjects, so nobody would be paid)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from rewards.models import RewardRule

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
