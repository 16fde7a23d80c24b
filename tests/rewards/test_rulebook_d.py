"""Rulebook D: monthly assessment pay by daily-average deposit step bands, each month on its own
figures; head-to-head pairs at quarter end."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db.models import Sum

from branches.models import Fact, Indicator, SubjectKind
from rewards.models import LineKind, PeriodKind, RewardRule
from tests.rewards.conftest import BASE_DAY, FEB_END, JAN_END, Q1_END, Q1_START, pay, put_facts


def daily_balances(staff, month_start: datetime.date, month_end: datetime.date, value) -> list[Fact]:
    indicator, _ = Indicator.objects.get_or_create(code="STAFF_DEP", defaults={"name": "员工存款"})
    days = (month_end - month_start).days + 1
    return [
        Fact(
            indicator=indicator,
            subject_kind=SubjectKind.STAFF,
            subject_id=staff.pk,
            business_date=month_start + datetime.timedelta(days=n),
            value=Decimal(value),
        )
        for n in range(days)
    ]


@pytest.fixture
def assessment(small_bank, scheme):
    s2, s3 = small_bank["s2"], small_bank["s3"]
    facts = []
    for staff, (jan, feb, mar) in ((s2, (520_000, 290_000, 2_000_000)), (s3, (360_000, 1_900_000, 340_000))):
        facts += daily_balances(staff, Q1_START, JAN_END, jan)
        facts += daily_balances(staff, datetime.date(2027, 2, 1), FEB_END, feb)
        facts += daily_balances(staff, datetime.date(2027, 3, 1), Q1_END, mar)
    Fact.objects.bulk_create(facts)
    RewardRule.objects.create(
        scheme=scheme,
        code="D1",
        name="月度考核工资",
        kind="threshold_bands",
        params={
            "figure": {"indicator": "STAFF_DEP", "measure": "daily_average", "level": "staff"},
            "payment": "each_month",
            "bands": [
                {"from": "0", "amount": "1300"},
                {"from": "350000", "amount": "1400", "step": {"every": "50000", "amount": "20"}},
                {"from": "1800000", "amount": "2380"},
            ],  # 1,400 + 29 × 20 frozen at 1,800,000, + 400
        },
    )
    return small_bank


def test_step_bands_pay_each_month_on_its_own_daily_average(assessment, scheme, finance):
    jan = pay(scheme, finance, JAN_END)
    assert {line.employee_no: line.amount for line in jan.lines.all()} == {
        "E002": Decimal("1460.00"),  # 520,000: 1,400 + 3 full steps × 20
        "E003": Decimal("1400.00"),  # 360,000: 1,400 + 0 steps
    }
    feb = pay(scheme, finance, FEB_END)
    # Each month stands alone: February's run pays February's own award lines, January is not touched.
    assert {(line.employee_no, line.kind, line.period_start): line.amount for line in feb.lines.all()} == {
        ("E002", LineKind.AWARD, datetime.date(2027, 2, 1)): Decimal(
            "1300.00"
        ),  # 290,000 → 1,300 (silent band)
        ("E003", LineKind.AWARD, datetime.date(2027, 2, 1)): Decimal("2380.00"),  # 1,900,000 → frozen 2,380
    }
    pay(scheme, finance, Q1_END, kind=PeriodKind.QUARTER, start=Q1_START)
    totals = dict(
        RewardRule.objects.get(code="D1").lines.values_list("employee_no").annotate(t=Sum("amount"))
    )
    assert totals == {
        "E002": Decimal("1460") + Decimal("1300") + Decimal("2380"),
        "E003": Decimal("1400") + Decimal("2380") + Decimal("1300"),
    }


def test_head_to_head_winner_gets_paid_and_loser_that_missed_pays(small_bank, scheme, finance):
    b1, b2, b3, o1 = small_bank["b1"], small_bank["b2"], small_bank["b3"], small_bank["o1"]
    put_facts(
        "DEP",
        [(unit, BASE_DAY, 0) for unit in (b1, b2, b3, o1)]
        + [(b1, Q1_END, 1_200_000), (b2, Q1_END, 800_000), (b3, Q1_END, 900_000), (o1, Q1_END, 900_000)],
    )
    put_facts("DEP_TARGET", [(unit, Q1_START, 1_000_000) for unit in (b1, b2, b3, o1)])
    rate = {
        "ratio": [
            {"indicator": "DEP", "measure": "increase"},
            {"indicator": "DEP_TARGET", "on": "2027-01-01"},
        ]
    }
    RewardRule.objects.create(
        scheme=scheme,
        code="H2H",
        name="对手赛",
        kind="head_to_head",
        params={
            "pairs": [["B1", "B2"], ["B3", "O1"]],
            "by": rate,
            "completion": rate,
            "winner_amount": "1000",
            "loser_penalty": "500",
            "payment": "at_end",
        },
    )
    quarter = pay(scheme, finance, Q1_END, kind=PeriodKind.QUARTER, start=Q1_START)
    got = {line.unit_code: (line.kind, line.amount) for line in quarter.lines.all()}
    # B1 beats B2, which also missed its target; B3 and O1 draw at 90 %: nothing.
    assert got == {"B1": (LineKind.AWARD, Decimal("1000.00")), "B2": (LineKind.PENALTY, Decimal("-500.00"))}


def test_late_correction_of_an_earlier_month_is_a_true_up_in_the_next_run(assessment, scheme, finance):
    jan = pay(scheme, finance, JAN_END)
    # E002's January balances were understated: really 600,000 a day (1,400 + 5 steps × 20 = 1,500).
    Fact.objects.filter(
        indicator__code="STAFF_DEP", subject_id=assessment["s2"].pk, business_date__lte=JAN_END
    ).update(value=Decimal("600000"))
    feb = pay(scheme, finance, FEB_END)
    true_up = feb.lines.get(employee_no="E002", period_start=Q1_START)
    assert (true_up.kind, true_up.amount) == (LineKind.TRUE_UP, Decimal("40.00"))
    assert true_up.adjusts == jan.lines.get(employee_no="E002")
