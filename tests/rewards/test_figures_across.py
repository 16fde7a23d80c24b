"""Figures across subjects and months: a unit from its staff, staff from their unit, one unit for
everyone, the difference of two figures, and months counted or in a row (small bank of tests.conftest:
B1 has E001 head and E002, B3 has E003, O1 has E004); then the same at a few thousand staff against
the documented meaning, read in place from facts and staged from the book."""

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
    assert book().evaluate({"across_staff": CARDS, "aggregate": "min", "missing": "0"}) == {
        b1: 29,
        b3: 40,
        o1: 0,
    }
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
                {
                    "figure": {"of_unit": "HO", "figure": {"indicator": "BANK_DEP", "measure": "increase"}},
                    "op": ">=",
                    "value": task,
                }
            ],
        }
        got = rules.kind_for("piece_rate", params).entitlements(Window(Q1_START, Q1_END))
        staff = {cards[key].pk: cards[key].employee_no for key in ("s1", "s2", "s3", "s4")}
        assert {staff[ent.payee_id] for ent in got} == paid, task


def test_one_units_figure_reaches_every_assigned_staff_member_and_a_missing_one_nobody(cards):
    put_facts("BANK_DEP", [(cards["ho"], Q1_END, 1300)])
    whole_bank = {"of_unit": "HO", "figure": {"indicator": "BANK_DEP"}}
    everyone = {cards[key].pk: 1300 for key in ("s1", "s2", "s3", "s4")}
    assert book().evaluate({"unit_of": whole_bank}) == everyone
    assert book().evaluate({"unit_of": {**whole_bank, "of_unit": "NOSUCH"}}) == {}
    # A computed staff figure is staged, not read in place: E004 (O1) lacks it and counts as missing.
    computed = {"across_staff": {"difference": [CARDS, CARDS]}, "aggregate": "sum", "missing": "5"}
    assert book().evaluate(computed) == {cards["b1"].pk: 0, cards["b3"].pk: 0, cards["o1"].pk: 5}


def test_a_unit_without_the_figure_fails_the_whole_bank_condition_for_everyone(cards):
    figure = {"of_unit": "NOSUCH", "figure": {"indicator": "BANK_DEP"}}
    params = {"figure": CARDS, "rate": "10", "conditions": [{"figure": figure, "op": ">=", "value": "0"}]}
    assert rules.kind_for("piece_rate", params).entitlements(Window(Q1_START, Q1_END)) == []


def test_a_constant_compared_against_is_the_same_bar_for_everyone(cards):
    params = {
        "figure": CARDS,
        "rate": "10",
        "conditions": [{"figure": CARDS, "op": ">=", "value": {"constant": "30"}}],
    }
    got = rules.kind_for("piece_rate", params).entitlements(Window(Q1_START, Q1_END))
    assert {ent.payee_id: ent.amount for ent in got} == {cards["s1"].pk: 300, cards["s3"].pk: 400}


def test_the_difference_of_two_figures_is_kept_for_subjects_having_both(cards):
    put_facts("ACTUAL", [(cards["b1"], Q1_END, 1200), (cards["b3"], Q1_END, 900)])
    put_facts("PLAN", [(cards["b1"], Q1_END, 1000)])
    assert book().evaluate({"difference": [{"indicator": "ACTUAL"}, {"indicator": "PLAN"}]}) == {
        cards["b1"].pk: 200
    }


def test_months_are_counted_on_each_months_own_dates_all_or_in_a_row_with_months_before(cards):
    b1, b3 = cards["b1"].pk, cards["b3"].pk
    # Month-end rates: B1 1 %, 3 %, 1 %; B3 3 %, 1 %, 1 %.
    put_facts(
        "RATE",
        [(cards["b1"], day, rate) for day, rate in ((JAN_END, "0.01"), (FEB_END, "0.03"), (Q1_END, "0.01"))]
        + [
            (cards["b3"], day, rate) for day, rate in ((JAN_END, "0.03"), (FEB_END, "0.01"), (Q1_END, "0.01"))
        ],
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


def test_months_read_the_last_business_days_rate_when_a_month_ends_on_a_weekend(cards):
    b1, b3 = cards["b1"].pk, cards["b3"].pk
    # 31 January and 28 February 2027 are Sundays; the rate arrives on business days only.
    fri_jan, fri_feb = datetime.date(2027, 1, 29), datetime.date(2027, 2, 26)
    put_facts(
        "RATE",
        [(cards["b1"], day, rate) for day, rate in ((fri_jan, "0.01"), (fri_feb, "0.01"), (Q1_END, "0.03"))]
        # B3 has no February rate: January's does not stand in for it.
        + [(cards["b3"], day, rate) for day, rate in ((fri_jan, "0.01"), (Q1_END, "0.01"))],
    )
    below = {"months": {"indicator": "RATE"}, "op": "<", "value": "0.02", "from": "2027-01-01"}
    assert book().evaluate(below) == {b1: 2, b3: 2}
    assert book().evaluate({**below, "count": "streak"}) == {b1: 0, b3: 1}


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
    assert february.evaluate({"months": {"indicator": "RATE"}, "op": "<", "value": "0.02"}) == {
        cards["b1"].pk: Decimal(1)
    }


# A few thousand staff with moves, leavers, late joiners and gaps: every across figure, read in place
# from facts and staged from the book (the same figure wrapped in a one-part sum), must equal the
# documented meaning computed here one subject at a time.
MANY_STAFF, MANY_UNITS = 3000, 120
MONTH_ENDS = (JAN_END, FEB_END, Q1_END)


@pytest.fixture
def many(db):
    import random

    from branches.models import Fact, Indicator, Staff, StaffAssignment, Unit

    rng = random.Random(20270331)
    units = Unit.objects.bulk_create(
        Unit(code=f"M{index:04d}", name=f"M{index}", kind="branch", path=f"/M{index:04d}/", depth=0)
        for index in range(MANY_UNITS)
    )
    staff = Staff.objects.bulk_create(
        Staff(employee_no=f"M{index:05d}", name=f"M{index}", unit=units[index % MANY_UNITS])
        for index in range(MANY_STAFF)
    )
    # unit_on_end: a unit's staff on the as-of date (across_staff); main_unit: the unit of most of
    # the quarter, where a person's own reward belongs (unit_of, rewards.placement).
    assignments, unit_on_end, main_unit = [], {}, {}
    for person in staff:
        first, second = rng.sample(units, 2)
        story = rng.choice(("stays", "moved", "moved_early", "left", "joins_late"))
        if story in ("moved", "moved_early"):  # figures dated before the move stay with the old unit
            last_day = FEB_END if story == "moved" else JAN_END  # 59 days of 90 at the first, or 31
            assignments += [
                StaffAssignment(
                    staff=person, unit=first, position="staff", valid_from=Q1_START, valid_to=last_day
                ),
                StaffAssignment(
                    staff=person, unit=second, position="staff", valid_from=last_day + datetime.timedelta(1)
                ),
            ]
            unit_on_end[person.pk] = second.pk
            main_unit[person.pk] = first.pk if story == "moved" else second.pk
        elif story == "left":
            assignments.append(
                StaffAssignment(
                    staff=person, unit=first, position="staff", valid_from=Q1_START, valid_to=FEB_END
                )
            )
            main_unit[person.pk] = first.pk  # left after two months: what they earned stays there
        elif story == "joins_late":
            assignments.append(
                StaffAssignment(
                    staff=person, unit=first, position="staff", valid_from=Q1_END + datetime.timedelta(1)
                )
            )
        else:
            assignments.append(
                StaffAssignment(staff=person, unit=first, position="staff", valid_from=Q1_START)
            )
            unit_on_end[person.pk] = main_unit[person.pk] = first.pk
    StaffAssignment.objects.bulk_create(assignments)
    indicators = {
        code: Indicator.objects.create(code=code, name=code)
        for code in ("MCARDS", "MRANK", "MBEFORE", "MUNIT")
    }
    facts, card_days, ranks, before = [], {}, {}, {}

    def fact(code, kind, subject, day, value):
        facts.append(
            Fact(
                indicator=indicators[code],
                subject_kind=kind,
                subject_id=subject,
                business_date=day,
                value=value,
            )
        )

    for person in staff:
        for day in (
            BASE_DAY,
            JAN_END,
            datetime.date(2027, 2, 14),
            Q1_END,
        ):  # the base day lies outside the sum
            if rng.random() < 0.7:
                value = rng.randint(0, 40)
                fact("MCARDS", SubjectKind.STAFF, person.pk, day, value)
                card_days[person.pk, day] = value
        for month_no, day in enumerate(MONTH_ENDS, start=1):
            if rng.random() < 0.85:
                ranks[person.pk, month_no] = rng.randint(1, 3)
                fact("MRANK", SubjectKind.STAFF, person.pk, day, ranks[person.pk, month_no])
        if rng.random() < 0.3:
            before[person.pk] = rng.randint(1, 4)
            fact("MBEFORE", SubjectKind.STAFF, person.pk, BASE_DAY, before[person.pk])
    unit_values = {unit.pk: rng.randint(0, 9) for unit in units if rng.random() < 0.8}
    for unit_id, value in unit_values.items():
        fact("MUNIT", SubjectKind.UNIT, unit_id, Q1_END, value)
    Fact.objects.bulk_create(facts, batch_size=5000)
    return {
        "unit_on_end": unit_on_end,
        "main_unit": main_unit,
        "card_days": card_days,
        "ranks": ranks,
        "before": before,
        "unit_values": unit_values,
    }


def _in_place_and_staged(figure: dict) -> list[dict]:
    return [figure, {"sum": [figure]}]


def test_across_staff_and_unit_of_at_a_few_thousand_staff_mean_what_the_docs_say(many):
    unit_on_end, cards = many["unit_on_end"], {}
    for (staff_id, day), value in many["card_days"].items():
        if Q1_START <= day <= Q1_END:
            cards[staff_id] = cards.get(staff_id, 0) + value
    for card in _in_place_and_staged({"indicator": "MCARDS", "measure": "sum", "level": "staff"}):
        for aggregate, combine in (("min", min), ("max", max), ("sum", sum), ("count", len)):
            for missing in (None, 7):
                expected: dict[int, list] = {}
                for staff_id, unit_id in unit_on_end.items():
                    value = cards.get(staff_id, missing)
                    if value is not None:
                        expected.setdefault(unit_id, []).append(value)
                figure = {
                    "across_staff": card,
                    "aggregate": aggregate,
                    **({"missing": str(missing)} if missing else {}),
                }
                got = book().evaluate(figure)
                assert got == {unit_id: combine(found) for unit_id, found in expected.items()}, (
                    card,
                    aggregate,
                    missing,
                )
    for unit_figure in _in_place_and_staged({"indicator": "MUNIT"}):
        expected = {
            sid: many["unit_values"][uid] for sid, uid in many["main_unit"].items() if uid in many["unit_values"]
        }
        assert book().evaluate({"unit_of": unit_figure}) == expected


def test_months_counted_and_in_a_row_at_a_few_thousand_staff_mean_what_the_docs_say(many):
    ranks, before = many["ranks"], many["before"]
    subjects = {sid for sid, _month in ranks} | set(before)
    for as_of, months in ((Q1_END, 3), (FEB_END, 2), (JAN_END, 1)):
        held = {sid: [ranks.get((sid, month)) == 1 for month in range(1, months + 1)] for sid in subjects}
        for count in ("all", "streak"):
            expected = {}
            for sid in subjects:
                seen = any((sid, month) in ranks for month in range(1, months + 1)) or sid in before
                if not seen:
                    continue
                if count == "all":
                    expected[sid] = sum(held[sid]) + before.get(sid, 0)
                else:
                    streak = next((place for place, one in enumerate(reversed(held[sid])) if not one), months)
                    expected[sid] = streak + (before.get(sid, 0) if streak == months else 0)
            for rank in _in_place_and_staged({"indicator": "MRANK", "level": "staff"}):
                for months_before in _in_place_and_staged(
                    {"indicator": "MBEFORE", "level": "staff", "on": "2026-12-31"}
                ):
                    figure = {
                        "months": rank,
                        "op": "<=",
                        "value": "1",
                        "count": count,
                        "before": months_before,
                    }
                    got = FigureBook(start=Q1_START, as_of=as_of).evaluate({**figure, "from": "2027-01-01"})
                    assert got == expected, (as_of, count, rank, months_before)


def test_months_of_a_sum_read_each_months_own_dates_at_a_few_thousand_staff(many):
    sums: dict[tuple[int, int], int] = {}
    for (staff_id, day), value in many["card_days"].items():
        if day >= Q1_START:
            sums[staff_id, day.month] = sums.get((staff_id, day.month), 0) + value
    subjects = {staff_id for staff_id, _month in sums}
    held = {sid: [sums.get((sid, month), -1) >= 20 for month in (1, 2, 3)] for sid in subjects}
    streaks = {
        sid: next((n for n, one in enumerate(reversed(months)) if not one), 3) for sid, months in held.items()
    }
    for card in _in_place_and_staged({"indicator": "MCARDS", "measure": "sum", "level": "staff"}):
        figure = {"months": card, "op": ">=", "value": "20", "from": "2027-01-01"}
        assert book().evaluate(figure) == {sid: sum(months) for sid, months in held.items()}
        assert book().evaluate({**figure, "count": "streak"}) == streaks
