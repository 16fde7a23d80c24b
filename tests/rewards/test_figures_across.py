"""Figures across subjects and months: a unit from its staff, staff from their unit, one unit for
everyone, the difference of two figures, and months counted or in a row (small bank of tests.conftest:
B1 has E001 head and E002, B3 has E003, O1 has E004)."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from branches.models import SubjectKind
from rewards import rules
from rewards.figures import FigureBook, validate_expression
from rewards.rules import Window
from tests.rewards.conftest import BASE_DAY, FEB_END, JAN_END, Q1_END, Q1_START, put_facts

CARDS = {"indicator": "CARDS", "measure": "sum", "level": "staff"}


@pytest.fixture
def cards(small_bank):
    """Card payments in Q1: E001 30, E002 29 (B1); E003 40 (B3); E004 none (O1)."""
    put_facts(
        "CARDS",
        [(small_bank["s1"], JAN_END, 30), (small_bank["s2"], JAN_END, 29), (small_bank["s3"], JAN_END, 40)],
        level=SubjectKind.STAFF,
    )
    return small_bank


def book(as_of=Q1_END) -> FigureBook:
    return FigureBook(start=Q1_START, as_of=as_of)


def test_a_units_lowest_staff_figure_leaves_out_staff_without_one_unless_missing_is_given(cards):
    b1, b3, o1 = cards["b1"].pk, cards["b3"].pk, cards["o1"].pk
    assert book().evaluate({"across_staff": CARDS, "aggregate": "min"}) == {b1: 29, b3: 40}
    assert book().evaluate({"across_staff": CARDS, "aggregate": "min", "missing": "0"}) == {b1: 29, b3: 40, o1: 0}
    assert book().evaluate({"across_staff": CARDS, "aggregate": "sum"}) == {b1: 59, b3: 40}
    assert book().evaluate({"across_staff": CARDS, "aggregate": "count"}) == {b1: 2, b3: 1}


def test_each_staff_member_reads_their_units_figure(cards):
    figure = {"unit_of": {"across_staff": CARDS, "aggregate": "min", "missing": "0"}}
    got = book().evaluate(figure)
    assert got == {cards["s1"].pk: 29, cards["s2"].pk: 29, cards["s3"].pk: 40, cards["s4"].pk: 0}


def test_one_units_figure_holds_or_fails_for_everyone_alike(cards):
    put_facts("BANK_DEP", [(cards["ho"], BASE_DAY, 1000), (cards["ho"], Q1_END, 1300)])
    rule = {"figure": CARDS, "rate": "10", "payment": "at_end"}
    for task, paid in (("300", {"E001", "E002", "E003"}), ("301", set())):
        params = {
            **rule,
            "conditions": [
                {"figure": {"of_unit": "HO", "figure": {"indicator": "BANK_DEP", "measure": "increase"}}, "op": ">=", "value": task}
            ],
        }
        got = rules.kind_for("piece_rate", params).entitlements(Window(Q1_START, Q1_END))
        staff = {cards[key].pk: cards[key].employee_no for key in ("s1", "s2", "s3", "s4")}
        assert {staff[ent.payee_id] for ent in got} == paid, task


def test_a_unit_without_the_figure_fails_the_whole_bank_condition_for_everyone(cards):
    figure = {"of_unit": "NOSUCH", "figure": {"indicator": "BANK_DEP"}}
    params = {"figure": CARDS, "rate": "10", "conditions": [{"figure": figure, "op": ">=", "value": "0"}]}
    assert rules.kind_for("piece_rate", params).entitlements(Window(Q1_START, Q1_END)) == []


def test_a_constant_compared_against_is_the_same_bar_for_everyone(cards):
    params = {"figure": CARDS, "rate": "10", "conditions": [{"figure": CARDS, "op": ">=", "value": {"constant": "30"}}]}
    got = rules.kind_for("piece_rate", params).entitlements(Window(Q1_START, Q1_END))
    assert {ent.payee_id: ent.amount for ent in got} == {cards["s1"].pk: 300, cards["s3"].pk: 400}


def test_the_difference_of_two_figures_is_kept_for_subjects_having_both(cards):
    put_facts("ACTUAL", [(cards["b1"], Q1_END, 1200), (cards["b3"], Q1_END, 900)])
    put_facts("PLAN", [(cards["b1"], Q1_END, 1000)])
    assert book().evaluate({"difference": [{"indicator": "ACTUAL"}, {"indicator": "PLAN"}]}) == {cards["b1"].pk: 200}


def test_months_are_counted_on_each_months_own_dates_all_or_in_a_row_with_months_before(cards):
    b1, b3 = cards["b1"].pk, cards["b3"].pk
    # Month-end rates: B1 1 %, 3 %, 1 %; B3 3 %, 1 %, 1 %.
    put_facts(
        "RATE",
        [(cards["b1"], day, rate) for day, rate in ((JAN_END, "0.01"), (FEB_END, "0.03"), (Q1_END, "0.01"))]
        + [(cards["b3"], day, rate) for day, rate in ((JAN_END, "0.03"), (FEB_END, "0.01"), (Q1_END, "0.01"))],
    )
    put_facts("BEFORE", [(cards["b1"], BASE_DAY, 5), (cards["b3"], BASE_DAY, 5)])
    below = {"months": {"indicator": "RATE"}, "op": "<", "value": "0.02", "from": "2027-01-01"}
    assert book().evaluate(below) == {b1: 2, b3: 2}
    streak = {**below, "count": "streak"}
    assert book().evaluate(streak) == {b1: 1, b3: 2}
    assert book(FEB_END).evaluate(streak) == {b1: 0, b3: 1}
    before = {"indicator": "BEFORE", "on": "2026-12-31"}
    # Months before count only for a run reaching back to the first month: B1 in January.
    assert book(JAN_END).evaluate({**streak, "before": before}) == {b1: 6, b3: 0}
    assert book().evaluate({**streak, "before": before}) == {b1: 1, b3: 2}


@pytest.mark.parametrize(
    ("figure", "where"),
    [
        ({"across_staff": {"indicator": "DEP"}}, "f.across_staff"),
        ({"across_staff": CARDS, "aggregate": "avg"}, "f.aggregate"),
        ({"unit_of": CARDS}, "f.unit_of"),
        ({"of_unit": "HO", "figure": CARDS}, "f.figure"),
        ({"months": CARDS, "op": "<", "value": "x"}, "f.value"),
        ({"months": CARDS, "value": "1", "count": "longest"}, "f.count"),
        ({"months": CARDS, "value": "1", "from": "1 Jan"}, "f.from"),
        ({"difference": [CARDS]}, "f.difference"),
    ],
)
def test_bad_across_figures_are_refused_naming_the_place(figure, where):
    with pytest.raises(ValidationError) as error:
        validate_expression(figure, "f")
    assert where in error.value.messages[0]


def test_positions_must_be_positions_with_a_share_each():
    params = {"figure": {"indicator": "DEP"}, "rate": "1", "beneficiary": "positions"}
    for positions, message in (
        (None, "positions"),
        ({"boss": "1"}, "boss"),
        ({"head": "a lot"}, "head"),
    ):
        with pytest.raises(ValidationError) as error:
            rules.validate("piece_rate", {**params, "positions": positions})
        assert message in error.value.messages[0]


def test_the_months_figure_defaults_to_the_campaign_start(cards):
    # Without a campaign the window's own start is the first month.
    put_facts("RATE", [(cards["b1"], JAN_END, "0.01"), (cards["b1"], FEB_END, "0.01")])
    february = FigureBook(start=datetime.date(2027, 2, 1), as_of=FEB_END)
    assert february.evaluate({"months": {"indicator": "RATE"}, "op": "<", "value": "0.02"}) == {cards["b1"].pk: Decimal(1)}
