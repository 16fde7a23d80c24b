"""Rulebook B: tier prizes 8,000 / 6,000 × 2 / 4,000 × 3 among institutions that met every plan, and
the completion bonus for the head (10,000), deputies (a share) and every staff member (3,000), paid
pro rata from 80 % completion."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from branches import services as org
from branches.models import Position, UnitKind
from rewards.models import PeriodKind, RewardRule
from tests.rewards.conftest import BASE_DAY, Q1_END, Q1_START, pay, put_facts


@pytest.fixture
def institutions(small_bank):
    """Eight directly-managed institutions D1…D8 with a quarter score and a met-all-plans flag."""
    units = [
        org.create_unit(
            code=f"D{n}",
            name=f"直管机构{n}",
            kind=UnitKind.BRANCH,
            parent=small_bank["r1"],
            category="直管机构",
        )
        for n in range(1, 9)
    ]
    scores = [95, 90, 90, 85, 80, 80, 80, 70]
    met = [1, 1, 1, 0, 1, 1, 1, 1]  # D4 missed a plan
    put_facts("SCORE", [(unit, Q1_END, score) for unit, score in zip(units, scores, strict=True)])
    put_facts("MET_ALL", [(unit, Q1_END, flag) for unit, flag in zip(units, met, strict=True)])
    return {unit.code: unit for unit in units}


def test_tier_prizes_go_to_the_eligible_with_ties_sharing_a_place(institutions, scheme, finance):
    RewardRule.objects.create(
        scheme=scheme,
        code="B2",
        name="直管机构等次奖",
        kind="rank_prize",
        params={
            "by": {"indicator": "SCORE"},
            "payment": "at_end",
            "participants": {"unit_category": "直管机构"},
            "conditions": [{"figure": {"indicator": "MET_ALL"}, "op": "==", "value": "1"}],
            "tiers": [
                {"winners": 1, "amount": "8000", "award": "一等奖"},
                {"winners": 2, "amount": "6000", "award": "二等奖"},
                {"winners": 3, "amount": "4000", "award": "三等奖"},
            ],
        },
    )
    quarter = pay(scheme, finance, Q1_END, kind=PeriodKind.QUARTER, start=Q1_START)
    got = {line.unit_code: (line.amount, line.non_cash_award) for line in quarter.lines.all()}
    # D4 (85) is out: filter first, then rank. 95 → 1st; 90, 90 → 2nd; 80 × 3 → 4th (third tier); 70 → 7th.
    assert got == {
        "D1": (Decimal("8000.00"), "一等奖"),
        "D2": (Decimal("6000.00"), "二等奖"),
        "D3": (Decimal("6000.00"), "二等奖"),
        "D5": (Decimal("4000.00"), "三等奖"),
        "D6": (Decimal("4000.00"), "三等奖"),
        "D7": (Decimal("4000.00"), "三等奖"),
    }


@pytest.fixture
def completion(small_bank):
    b1, b2, b3 = small_bank["b1"], small_bank["b2"], small_bank["b3"]
    org.hire_staff(employee_no="E005", name="陈静", unit=b1, position=Position.DEPUTY, on=Q1_START)
    org.hire_staff(employee_no="E006", name="杨军", unit=b1, position=Position.MIDDLE_MANAGER, on=Q1_START)
    # Lowest of the two completion rates counts: B1 min(0.90, 0.85) = 0.85; B2 0.79; B3 min(1.2, 1.05) ≥ 1.
    put_facts(
        "CORP",
        [
            (b1, BASE_DAY, 0),
            (b1, Q1_END, 900_000),
            (b2, BASE_DAY, 0),
            (b2, Q1_END, 790_000),
            (b3, BASE_DAY, 0),
            (b3, Q1_END, 1_200_000),
        ],
    )
    put_facts(
        "SAV",
        [
            (b1, BASE_DAY, 0),
            (b1, Q1_END, 850_000),
            (b2, BASE_DAY, 0),
            (b2, Q1_END, 900_000),
            (b3, BASE_DAY, 0),
            (b3, Q1_END, 1_050_000),
        ],
    )
    put_facts("CORP_PLAN", [(unit, Q1_START, 1_000_000) for unit in (b1, b2, b3)])
    put_facts("SAV_PLAN", [(unit, Q1_START, 1_000_000) for unit in (b1, b2, b3)])
    return small_bank


RATE = {
    "min": [
        {
            "ratio": [
                {"indicator": "CORP", "measure": "increase"},
                {"indicator": "CORP_PLAN", "on": "2027-01-01"},
            ]
        },
        {
            "ratio": [
                {"indicator": "SAV", "measure": "increase"},
                {"indicator": "SAV_PLAN", "on": "2027-01-01"},
            ]
        },
    ]
}


def test_completion_bonus_for_head_deputies_and_staff_pro_rata_from_80_percent(completion, scheme, finance):
    common = {"completion": RATE, "floor": "0.8", "payment": "at_end"}
    RewardRule.objects.create(
        scheme=scheme,
        code="B1H",
        name="负责人达标奖",
        kind="completion_bonus",
        params={**common, "amount": "10000", "beneficiary": "head"},
    )
    RewardRule.objects.create(
        scheme=scheme,
        code="B1D",
        name="副职达标奖",
        kind="completion_bonus",
        params={**common, "amount": "10000", "beneficiary": "deputies", "share": "0.8"},
    )
    RewardRule.objects.create(
        scheme=scheme,
        code="B5",
        name="全员达标奖",
        kind="completion_bonus",
        params={
            **common,
            "amount": "3000",
            "beneficiary": "every_staff",
            "excluded_positions": ["head", "deputy", "middle_manager"],
        },
    )
    quarter = pay(scheme, finance, Q1_END, kind=PeriodKind.QUARTER, start=Q1_START)
    got = {(line.rule.code, line.employee_no): line.amount for line in quarter.lines.all()}
    assert got == {
        ("B1H", "E001"): Decimal("8500.00"),  # head of B1: 10,000 × 0.85
        ("B1D", "E005"): Decimal("6800.00"),  # deputy: 10,000 × 0.8 × 0.85
        ("B5", "E002"): Decimal("2550.00"),  # account manager at B1: 3,000 × 0.85 (middle manager excluded)
        ("B5", "E003"): Decimal("3000.00"),  # B3 met both plans: full 3,000; B2 at 79 % gets nothing
    }


def test_pro_rata_amount_is_rounded_half_up_to_the_fen_once(completion, scheme, finance):
    b1 = completion["b1"]
    put_facts("SAV", [(b1, Q1_END, 888_885)])  # B1: min(0.9, 0.888885)
    RewardRule.objects.create(
        scheme=scheme,
        code="B7",
        name="按比例",
        kind="completion_bonus",
        params={
            "completion": RATE,
            "floor": "0.8",
            "amount": "1000",
            "payment": "at_end",
            "participants": {"unit_codes": ["B1"]},
        },
    )
    quarter = pay(scheme, finance, Q1_END, kind=PeriodKind.QUARTER, start=Q1_START)
    assert quarter.lines.get().amount == Decimal("888.89")  # 888.885 half-up (banker's rounding: 888.88)


def test_month_end_run_pays_no_quarter_end_bonus(completion, scheme, finance):
    RewardRule.objects.create(
        scheme=scheme,
        code="B1H",
        name="负责人达标奖",
        kind="completion_bonus",
        params={"completion": RATE, "amount": "10000", "beneficiary": "head", "payment": "at_end"},
    )
    jan = pay(scheme, finance, datetime.date(2027, 1, 31))
    assert jan.lines.count() == 0
