"""Rulebook A: deposit piece rate paid monthly, trued up at quarter end, clawed back when the balance
falls; POS piece rate to the staff member and a shortfall penalty for the branch, at quarter end."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db.models import Sum

from branches.models import Fact, SubjectKind
from rewards import services
from rewards.models import LineKind, PeriodKind, RewardRule
from tests.rewards.conftest import BASE_DAY, FEB_END, JAN_END, Q1_END, Q1_START, pay, put_facts

CARD_MET = {
    "figure": {
        "ratio": [
            {"indicator": "CARD", "measure": "increase"},
            {"indicator": "CARD_TARGET", "on": "2027-01-01"},
        ]
    },
    "op": ">=",
    "value": "1",
}


@pytest.fixture
def rulebook_a(scheme, small_bank):
    b1, b2, b3 = small_bank["b1"], small_bank["b2"], small_bank["b3"]
    # Deposits (yuan): B1 +3.5M, +2.9M, +4.0M cumulative; B2 +2.2M, +3.1M, +1.0M; B3 +5M but card target missed.
    put_facts(
        "DEP",
        [
            (b1, BASE_DAY, 10_000_000),
            (b1, JAN_END, 13_500_000),
            (b1, FEB_END, 12_900_000),
            (b1, Q1_END, 14_000_000),
            (b2, BASE_DAY, 5_000_000),
            (b2, JAN_END, 7_200_000),
            (b2, FEB_END, 8_100_000),
            (b2, Q1_END, 6_000_000),
            (b3, BASE_DAY, 1_000_000),
            (b3, JAN_END, 6_000_000),
            (b3, FEB_END, 6_000_000),
            (b3, Q1_END, 6_000_000),
        ],
    )
    put_facts(
        "CARD",
        [
            (unit, day, value)
            for unit, value in ((b1, 500_000), (b2, 400_000), (b3, 100_000))
            for day in (JAN_END, FEB_END, Q1_END)
        ]
        + [(unit, BASE_DAY, 0) for unit in (b1, b2, b3)],
    )
    put_facts("CARD_TARGET", [(b1, Q1_START, 400_000), (b2, Q1_START, 400_000), (b3, Q1_START, 400_000)])
    RewardRule.objects.create(
        scheme=scheme,
        code="A1",
        name="存款计件奖励",
        kind="piece_rate",
        params={
            "figure": {"indicator": "DEP", "measure": "increase"},
            "rate": "1000",
            "per": "1000000",
            "mode": "block",
            "conditions": [CARD_MET],
        },
    )
    # POS: placed by staff (daily counts), 500 each, at quarter end; B1 placed 3 against a target of 4.
    s1, s2 = small_bank["s1"], small_bank["s2"]
    put_facts(
        "POS",
        [(s2, Q1_START.replace(day=5), 2), (s2, Q1_END.replace(day=3), 1), (s1, FEB_END, 0)],
        level=SubjectKind.STAFF,
    )
    put_facts("POS", [(b1, Q1_START.replace(day=5), 2), (b1, Q1_END.replace(day=3), 1), (b2, FEB_END, 2)])
    put_facts("POS_TARGET", [(b1, Q1_START, 4), (b2, Q1_START, 2)])
    RewardRule.objects.create(
        scheme=scheme,
        code="A2",
        name="POS计件",
        kind="piece_rate",
        params={
            "figure": {"indicator": "POS", "measure": "sum", "level": "staff"},
            "rate": "500",
            "payment": "at_end",
        },
    )
    RewardRule.objects.create(
        scheme=scheme,
        code="A2P",
        name="POS未完成扣罚",
        kind="shortfall_penalty",
        params={
            "figure": {"indicator": "POS", "measure": "sum"},
            "target": {"indicator": "POS_TARGET", "on": "2027-01-01"},
            "rate": "500",
            "payment": "at_end",
        },
    )
    return small_bank


def amounts(run, code):
    return {line.unit_code: (line.kind, line.amount) for line in run.lines.filter(rule__code=code)}


def test_deposit_piece_rate_pays_full_blocks_each_month_and_trues_up(rulebook_a, scheme, finance):
    jan = pay(scheme, finance, JAN_END)
    assert amounts(jan, "A1") == {
        "B1": (LineKind.AWARD, Decimal("3000.00")),
        "B2": (LineKind.AWARD, Decimal("2000.00")),
    }
    feb = pay(scheme, finance, FEB_END)
    # B1 fell to +2.9M: 1,000 of January's 3,000 comes back; B2 rose to +3.1M: 1,000 more.
    assert amounts(feb, "A1") == {
        "B1": (LineKind.CLAWBACK, Decimal("-1000.00")),
        "B2": (LineKind.TRUE_UP, Decimal("1000.00")),
    }
    clawback = feb.lines.get(rule__code="A1", unit_code="B1")
    assert clawback.adjusts == jan.lines.get(rule__code="A1", unit_code="B1")
    quarter = pay(scheme, finance, Q1_END, kind=PeriodKind.QUARTER, start=Q1_START)
    assert amounts(quarter, "A1") == {
        "B1": (LineKind.TRUE_UP, Decimal("2000.00")),
        "B2": (LineKind.CLAWBACK, Decimal("-2000.00")),
    }


def test_monthly_payments_plus_adjustments_equal_the_quarter_final(rulebook_a, scheme, finance):
    pay(scheme, finance, JAN_END)
    pay(scheme, finance, FEB_END)
    pay(scheme, finance, Q1_END, kind=PeriodKind.QUARTER, start=Q1_START)
    totals = {
        row["unit_code"]: row["total"]
        for row in RewardRule.objects.get(code="A1").lines.values("unit_code").annotate(total=Sum("amount"))
    }
    # Quarter final on cumulative figures: B1 ⌊4.0M⌋ → 4,000; B2 ⌊1.0M⌋ → 1,000; B3 card target missed → 0.
    assert totals == {"B1": Decimal("4000.00"), "B2": Decimal("1000.00")}


def test_falsified_figure_found_after_locking_is_clawed_back_in_a_correction_run(rulebook_a, scheme, finance):
    pay(scheme, finance, JAN_END)
    pay(scheme, finance, FEB_END)
    quarter = pay(scheme, finance, Q1_END, kind=PeriodKind.QUARTER, start=Q1_START)
    Fact.objects.filter(indicator__code="DEP", subject_id=rulebook_a["b1"].pk, business_date=Q1_END).update(
        value=Decimal("12000000")
    )
    correction = pay(scheme, finance, Q1_END, kind=PeriodKind.CORRECTION, start=Q1_START)
    line = correction.lines.get(rule__code="A1")
    assert (line.unit_code, line.kind, line.amount) == ("B1", LineKind.CLAWBACK, Decimal("-2000.00"))
    assert line.adjusts == quarter.lines.get(rule__code="A1", unit_code="B1")
    assert RewardRule.objects.get(code="A1").lines.filter(unit_code="B1").aggregate(t=Sum("amount"))[
        "t"
    ] == Decimal("2000.00")


def test_pos_piece_rate_and_shortfall_penalty_wait_for_quarter_end(rulebook_a, scheme, finance):
    jan = pay(scheme, finance, JAN_END)
    assert not jan.lines.filter(rule__code__in=["A2", "A2P"]).exists()
    pay(scheme, finance, FEB_END)
    quarter = pay(scheme, finance, Q1_END, kind=PeriodKind.QUARTER, start=Q1_START)
    pos = quarter.lines.get(rule__code="A2")
    assert (pos.employee_no, pos.unit_code, pos.amount) == ("E002", "B1", Decimal("1500.00"))
    penalty = quarter.lines.get(rule__code="A2P")
    assert (penalty.unit_code, penalty.kind, penalty.amount) == ("B1", LineKind.PENALTY, Decimal("-500.00"))


def test_rerunning_an_unchanged_period_pays_nothing_more(rulebook_a, scheme, finance):
    pay(scheme, finance, JAN_END)
    again = services.create_payout_run(
        scheme=scheme,
        period_kind=PeriodKind.CORRECTION,
        period_start=Q1_START,
        period_end=JAN_END,
        by=finance["maker"],
    )
    assert again.lines.count() == 0
