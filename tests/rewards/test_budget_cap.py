"""A campaign budget caps awards: the overrun is shown before approval; scaling pro rata is a setting."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from rewards import selectors, services
from rewards.models import PeriodKind, RewardRule
from tests.rewards.conftest import BASE_DAY, Q1_END, Q1_START, put_facts


@pytest.fixture
def over_budget(scheme, small_bank):
    b1, b2, b3 = small_bank["b1"], small_bank["b2"], small_bank["b3"]
    put_facts(
        "DEP",
        [(unit, BASE_DAY, 0) for unit in (b1, b2, b3)]
        + [(b1, Q1_END, 2_000_000), (b2, Q1_END, 1_000_000), (b3, Q1_END, 0)],
    )
    put_facts("DEP_TARGET", [(unit, Q1_START, 1_000_000) for unit in (b1, b2, b3)])
    RewardRule.objects.create(
        scheme=scheme,
        code="P",
        name="计件",
        kind="piece_rate",
        params={"figure": {"indicator": "DEP", "measure": "increase"}, "rate": "1000", "per": "500000"},
    )  # B1 4,000; B2 2,000
    RewardRule.objects.create(
        scheme=scheme,
        code="S",
        name="扣罚",
        kind="shortfall_penalty",
        params={
            "figure": {"indicator": "DEP", "measure": "increase"},
            "target": {"indicator": "DEP_TARGET", "on": "2027-01-01"},
            "rate": "1",
        },
    )  # B3 is 1,000,000 yuan short: −1 yuan per yuan short
    scheme.budget = Decimal("4500.00")
    scheme.save()
    return scheme


def quarter_run(scheme, finance):
    return services.create_payout_run(
        scheme=scheme,
        period_kind=PeriodKind.QUARTER,
        period_start=Q1_START,
        period_end=Q1_END,
        by=finance["maker"],
    )


def test_overrun_is_shown_before_approval_without_scaling(over_budget, finance):
    run = quarter_run(over_budget, finance)
    status = selectors.budget_status(run)
    assert status.awarded == Decimal("6000.00")  # penalties do not count against the budget
    assert status.overrun == Decimal("1500.00")
    assert run.lines.get(unit_code="B1", rule__code="P").amount == Decimal("4000.00")


def test_scaling_pro_rata_keeps_awards_within_budget_and_leaves_penalties(over_budget, finance):
    over_budget.scale_to_budget = True
    over_budget.save()
    run = quarter_run(over_budget, finance)
    awards = {line.unit_code: line.amount for line in run.lines.filter(rule__code="P")}
    assert awards == {"B1": Decimal("3000.00"), "B2": Decimal("1500.00")}  # × 4,500 / 6,000
    assert run.lines.get(rule__code="S").amount == Decimal("-1000000.00")
    assert selectors.budget_status(run).overrun == Decimal("0.00")


def test_scaled_awards_add_up_to_the_budget_never_a_fen_over(scheme, finance, small_bank):
    """Three awards of 1,000 and a budget of 2,000: each is 666.666…; rounded half-up each it
    was 666.67 (2,000.01, over by a fen). Rounded down to 666.66 (1,999.98), the two fen left go
    to the largest remainders (all equal here: the first units by rule and payee)."""
    units = [small_bank["b1"], small_bank["b2"], small_bank["b3"]]
    put_facts("DEP", [(unit, BASE_DAY, 0) for unit in units] + [(unit, Q1_END, 1_000_000) for unit in units])
    RewardRule.objects.create(
        scheme=scheme, code="P", name="计件", kind="piece_rate",
        params={"figure": {"indicator": "DEP", "measure": "increase"}, "rate": "1000", "per": "1000000"},
    )
    scheme.budget, scheme.scale_to_budget = Decimal("2000"), True
    scheme.save()
    run = quarter_run(scheme, finance)
    ids = {unit.code: unit.pk for unit in units}
    first, second, third = sorted(ids, key=ids.get)
    assert {line.unit_code: line.amount for line in run.lines.all()} == {
        first: Decimal("666.67"), second: Decimal("666.67"), third: Decimal("666.66")
    }
    assert selectors.budget_status(run) == selectors.BudgetStatus(Decimal("2000"), Decimal("2000.00"), Decimal("0.00"))


def test_the_fen_left_go_to_the_largest_remainders(scheme, finance, small_bank):
    """Awards of 33,334, 33,334 and 33,342 against a budget of 100.01 (× 0.001): 33.334, 33.334 and
    33.342. Rounded down they make 100.00, one fen short of the budget; it goes to the largest
    remainder (0.4 of a fen, B1 and B2 tied: B1, the first unit), not to B3's 0.2. Rounded half-up
    each, B1 would have been paid 33.33."""
    b1, b2, b3 = small_bank["b1"], small_bank["b2"], small_bank["b3"]
    put_facts(
        "DEP", [(unit, BASE_DAY, 0) for unit in (b1, b2, b3)] + [(b1, Q1_END, 33334), (b2, Q1_END, 33334), (b3, Q1_END, 33342)]
    )
    RewardRule.objects.create(
        scheme=scheme, code="P", name="计件", kind="piece_rate",
        params={"figure": {"indicator": "DEP", "measure": "increase"}, "rate": "1"},
    )
    scheme.budget, scheme.scale_to_budget = Decimal("100.01"), True
    scheme.save()
    run = quarter_run(scheme, finance)
    assert {line.unit_code: line.amount for line in run.lines.all()} == {
        "B1": Decimal("33.34"), "B2": Decimal("33.33"), "B3": Decimal("33.34")
    }
    assert "0.001000" in run.lines.get(unit_code="B1").formula


def test_rule_parameters_are_validated_naming_the_field(scheme):
    with pytest.raises(ValidationError, match="rate"):
        RewardRule.objects.create(
            scheme=scheme,
            code="X",
            name="x",
            kind="piece_rate",
            params={"figure": {"indicator": "DEP"}, "rate": "lots"},
        )
    with pytest.raises(ValidationError, match=r"bands\[1\]\.from"):
        RewardRule.objects.create(
            scheme=scheme,
            code="Y",
            name="y",
            kind="threshold_bands",
            params={
                "figure": {"indicator": "DEP"},
                "bands": [{"from": 5, "amount": 1}, {"from": 2, "amount": 2}],
            },
        )
    with pytest.raises(ValidationError, match="lottery"):
        RewardRule.objects.create(scheme=scheme, code="Z", name="z", kind="lottery", params={})


def test_a_penalty_taken_back_is_not_an_award_against_the_budget(scheme, finance, small_bank):
    """A deduction (penalty: true bands) reversed in a correction run awards nothing."""
    from tests.rewards.conftest import JAN_END, pay

    b1 = small_bank["b1"]
    put_facts("RATE", [(b1, JAN_END, "0.5")])
    RewardRule.objects.create(
        scheme=scheme,
        code="M",
        name="扣罚",
        kind="threshold_bands",
        params={
            "figure": {"indicator": "RATE", "measure": "value"},
            "penalty": True,
            "bands": [{"from": "0", "amount": "-500"}],
            "conditions": [{"figure": {"indicator": "RATE", "measure": "value"}, "op": "<", "value": "1"}],
        },
    )
    scheme.budget = Decimal("100")
    scheme.save()
    pay(scheme, finance, JAN_END)
    put_facts("RATE", [(b1, JAN_END, "1.2")])  # the rate was wrong: no deduction after all
    run = services.create_payout_run(
        scheme=scheme, period_kind=PeriodKind.CORRECTION, period_start=Q1_START, period_end=JAN_END, by=finance["maker"]
    )
    assert [(line.kind, line.amount) for line in run.lines.all()] == [("adjustment", Decimal("500.00"))]
    status = selectors.budget_status(run)
    assert (status.awarded, status.overrun) == (Decimal("0.00"), Decimal("0.00"))


def test_a_head_to_head_penalty_taken_back_is_not_an_award_either(scheme, finance, small_bank):
    from tests.rewards.conftest import BASE_DAY, FEB_END, JAN_END, pay

    b1, b2 = small_bank["b1"], small_bank["b2"]
    put_facts("DEP", [(b1, BASE_DAY, 0), (b2, BASE_DAY, 0), (b1, JAN_END, 100), (b2, JAN_END, 200)])
    put_facts("DONE", [(b1, JAN_END, "0.5"), (b2, JAN_END, "1")])
    RewardRule.objects.create(
        scheme=scheme,
        code="H",
        name="对手赛",
        kind="head_to_head",
        params={
            "pairs": [["B1", "B2"]],
            "by": {"indicator": "DEP", "measure": "increase"},
            "completion": {"indicator": "DONE", "measure": "value"},
            "winner_amount": "1000",
            "loser_penalty": "500",
        },
    )
    pay(scheme, finance, JAN_END)  # B2 wins 1,000; B1 loses and missed its target: −500
    put_facts("DEP", [(b1, FEB_END, 100), (b2, FEB_END, 200)])
    put_facts("DONE", [(b1, FEB_END, "1"), (b2, FEB_END, "1")])  # B1 meets its target after all
    february = services.create_payout_run(
        scheme=scheme,
        period_kind=PeriodKind.MONTH,
        period_start=FEB_END.replace(day=1),
        period_end=FEB_END,
        by=finance["maker"],
    )
    assert [(line.unit_code, line.amount) for line in february.lines.all()] == [("B1", Decimal("500.00"))]
    # B1's −500 + 500 nets to nothing: only B2's 1,000 is an award.
    assert selectors.budget_status(february).awarded == Decimal("1000.00")
