"""Rulebook C: supervisor and elite trips do not stack (the higher value wins), trips need a green
rating, 39强/39快 titles stack, and the first-sale week pays the highest percent-of-premium tier."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from branches.models import SubjectKind
from rewards.models import PeriodKind, RewardRule
from tests.rewards.conftest import Q1_END, Q1_START, pay, put_facts

STAFF = SubjectKind.STAFF
GREEN = {"figure": {"indicator": "GREEN", "level": "staff"}, "op": "==", "value": "1"}


@pytest.fixture
def agents(small_bank):
    s1, s2, s3, s4 = (small_bank[key] for key in ("s1", "s2", "s3", "s4"))
    put_facts(
        "PREM",
        [(s1, Q1_END, 500_000), (s2, Q1_END, 150_000), (s3, Q1_END, 300_000), (s4, Q1_END, 250_000)],
        level=STAFF,
    )
    put_facts(
        "TEAM_PREM",
        [(s1, Q1_END, 400_000), (s2, Q1_END, 350_000), (s3, Q1_END, 0), (s4, Q1_END, 0)],
        level=STAFF,
    )
    put_facts("GREEN", [(s1, Q1_END, 1), (s2, Q1_END, 1), (s3, Q1_END, 0), (s4, Q1_END, 1)], level=STAFF)
    return small_bank


def test_supervisor_and_elite_trips_do_not_stack_and_need_green_rating(agents, scheme, finance):
    RewardRule.objects.create(
        scheme=scheme,
        code="TOP300",
        name="TOP 300",
        kind="title",
        stacking_group="trip",
        params={
            "by": {"indicator": "PREM", "measure": "sum", "level": "staff"},
            "top_n": 2,
            "award": "TOP 300 飞机游",
            "value": "12000",
            "payment": "at_end",
            "conditions": [
                {
                    "figure": {"indicator": "PREM", "measure": "sum", "level": "staff"},
                    "op": ">=",
                    "value": "200000",
                },
                GREEN,
            ],
        },
    )
    RewardRule.objects.create(
        scheme=scheme,
        code="SUP",
        name="主管旅游",
        kind="title",
        stacking_group="trip",
        params={
            "by": {"indicator": "TEAM_PREM", "measure": "sum", "level": "staff"},
            "award": "主管火车游",
            "value": "8000",
            "payment": "at_end",
            "conditions": [
                {
                    "figure": {"indicator": "TEAM_PREM", "measure": "sum", "level": "staff"},
                    "op": ">=",
                    "value": "300000",
                },
                GREEN,
            ],
        },
    )
    quarter = pay(scheme, finance, Q1_END, kind=PeriodKind.QUARTER, start=Q1_START)
    got = {
        line.employee_no: (line.rule.code, line.non_cash_award, line.amount) for line in quarter.lines.all()
    }
    # E001 qualifies for both and keeps the higher-valued TOP 300 trip; E003 is not green; E004 is 2nd of the eligible.
    assert got == {
        "E001": ("TOP300", "TOP 300 飞机游", Decimal("0.00")),
        "E002": ("SUP", "主管火车游", Decimal("0.00")),
        "E004": ("TOP300", "TOP 300 飞机游", Decimal("0.00")),
    }


def test_strongest_and_fastest_titles_stack(small_bank, scheme, finance):
    b1, b2 = small_bank["b1"], small_bank["b2"]
    put_facts("FY_PREM", [(b1, Q1_END, 3_500_000), (b2, Q1_END, 1_200_000)])
    put_facts("YEAR_PROGRESS", [(b1, Q1_END, "0.60"), (b2, Q1_END, "0.58")])
    RewardRule.objects.create(
        scheme=scheme,
        code="S39",
        name="39强",
        kind="title",
        params={
            "by": {"indicator": "FY_PREM"},
            "top_n": 39,
            "award": "39强",
            "value": "5000",
            "payment": "at_end",
            "conditions": [
                {"figure": {"indicator": "FY_PREM"}, "op": ">=", "value": "3000000"},
                {"figure": {"indicator": "YEAR_PROGRESS"}, "op": ">=", "value": "0.45"},
            ],
        },
    )
    RewardRule.objects.create(
        scheme=scheme,
        code="F39",
        name="39快",
        kind="title",
        params={
            "by": {"indicator": "YEAR_PROGRESS"},
            "top_n": 39,
            "award": "39快",
            "value": "5000",
            "payment": "at_end",
            "conditions": [
                {"figure": {"indicator": "FY_PREM"}, "op": ">=", "value": "1000000"},
                {"figure": {"indicator": "YEAR_PROGRESS"}, "op": ">=", "value": "0.55"},
            ],
        },
    )
    quarter = pay(scheme, finance, Q1_END, kind=PeriodKind.QUARTER, start=Q1_START)
    got = sorted((line.unit_code, line.non_cash_award) for line in quarter.lines.all())
    assert got == [("B1", "39强"), ("B1", "39快"), ("B2", "39快")]


def test_first_sale_week_pays_only_the_highest_percent_tier(small_bank, scheme, finance):
    b1, b2, b3 = small_bank["b1"], small_bank["b2"], small_bank["b3"]
    week = [datetime.date(2027, 1, day) for day in (2, 5)]
    put_facts(
        "WEEK_PREM",
        [
            (b1, week[0], 200_000),
            (b1, week[1], 120_000),
            (b2, week[0], 360_000),
            (b3, week[1], 150_000),
            (b1, datetime.date(2027, 1, 9), 900_000),
        ],
    )
    put_facts("FY_TARGET", [(unit, Q1_START, 1_000_000) for unit in (b1, b2, b3)])
    premiums = {"indicator": "WEEK_PREM", "measure": "sum"}
    RewardRule.objects.create(
        scheme=scheme,
        code="C2",
        name="首卖周管理奖",
        kind="threshold_bands",
        params={
            "period": {"start": "2027-01-01", "end": "2027-01-07"},
            "payment": "at_end",
            "figure": {"ratio": [premiums, {"indicator": "FY_TARGET", "on": "2027-01-01"}]},
            "bands": [
                {"from": "0.20", "percent": "0.01", "of": premiums},
                {"from": "0.30", "percent": "0.02", "of": premiums},
                {"from": "0.35", "percent": "0.025", "of": premiums},
            ],
        },
    )
    jan = pay(scheme, finance, datetime.date(2027, 1, 31))
    # B1: 320,000 in the week (the 9 January policy is outside it) = 32 % → 2 % = 6,400; B2: 36 % → 2.5 % = 9,000.
    assert {line.unit_code: line.amount for line in jan.lines.all()} == {
        "B1": Decimal("6400.00"),
        "B2": Decimal("9000.00"),
    }


def test_title_taken_back_when_figures_prove_falsified(agents, scheme, finance):
    from branches.models import Fact

    RewardRule.objects.create(
        scheme=scheme,
        code="TOP300",
        name="TOP 300",
        kind="title",
        params={
            "by": {"indicator": "PREM", "measure": "sum", "level": "staff"},
            "award": "TOP 300",
            "value": "12000",
            "payment": "at_end",
            "amount": "500",
            "conditions": [
                {
                    "figure": {"indicator": "PREM", "measure": "sum", "level": "staff"},
                    "op": ">=",
                    "value": "400000",
                }
            ],
        },
    )
    quarter = pay(scheme, finance, Q1_END, kind=PeriodKind.QUARTER, start=Q1_START)
    original = quarter.lines.get()
    assert (original.employee_no, original.non_cash_award, original.amount) == (
        "E001",
        "TOP 300",
        Decimal("500.00"),
    )
    # E001's premiums were falsified: the real figure is 100,000. 退钱交荣誉: money and title go back.
    Fact.objects.filter(indicator__code="PREM", subject_id=agents["s1"].pk).update(value=Decimal("100000"))
    correction = pay(scheme, finance, Q1_END, kind=PeriodKind.CORRECTION, start=Q1_START)
    line = correction.lines.get()
    assert (line.kind, line.amount, line.adjusts) == ("clawback", Decimal("-500.00"), original)
    assert "TOP 300" in line.non_cash_award and line.non_cash_award != "TOP 300"
