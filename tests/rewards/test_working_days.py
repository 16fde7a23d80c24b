"""The bank's working-day calendar and the reward figures that read it.

February 2027 starts on a Monday: 20 weekdays. The calendar below takes 春节 Mon 8 – Wed 10 off,
lists Sat 6 February as a holiday too (a weekend: no working day lost) and Mon 1 February as a
working day (already one: no day gained), and makes Sat 20 February a working day (调休):
20 − 3 + 1 = 18 working days.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from campaigns.bank_calendar import is_working_day, weekdays, working_days
from campaigns.models import CalendarDay
from rewards.figures import FigureBook, validate_expression
from rewards.models import RewardRule
from rewards.rule_base import Window
from rewards.rules import PieceRate
from tests.rewards.conftest import put_facts

FEB_1, FEB_28 = datetime.date(2027, 2, 1), datetime.date(2027, 2, 28)
SPRING_FESTIVAL = [
    ("2027-02-01", True, "ordinary Monday listed as working"),
    ("2027-02-06", False, "春节 (Saturday)"),
    ("2027-02-08", False, "春节"),
    ("2027-02-09", False, "春节"),
    ("2027-02-10", False, "春节"),
    ("2027-02-20", True, "春节调休上班"),
]


@pytest.fixture
def spring_festival(db):
    CalendarDay.objects.bulk_create(
        CalendarDay(day=datetime.date.fromisoformat(day), working=working, name=name)
        for day, working, name in SPRING_FESTIVAL
    )


@given(
    st.dates(datetime.date(2020, 1, 1), datetime.date(2030, 12, 31)),
    st.integers(min_value=-3, max_value=400),
)
def test_weekdays_count_monday_to_friday_like_walking_the_days(first, length):
    last = first + datetime.timedelta(days=length)
    walked = sum(1 for n in range(length + 1) if (first + datetime.timedelta(days=n)).weekday() < 5)
    assert weekdays(first, last) == walked


def test_with_no_days_listed_the_calendar_is_monday_to_friday(db):
    assert working_days(datetime.date(2027, 1, 1), datetime.date(2027, 1, 31)) == 21
    assert working_days(FEB_1, FEB_28) == 20
    assert working_days(FEB_28, FEB_1) == 0


def test_holidays_on_weekdays_are_off_and_make_up_weekends_are_on(spring_festival):
    assert working_days(FEB_1, FEB_28) == 18
    assert working_days(datetime.date(2027, 2, 8), datetime.date(2027, 2, 14)) == 2  # Thu, Fri
    assert working_days(datetime.date(2027, 2, 20), datetime.date(2027, 2, 21)) == 1
    assert not is_working_day(datetime.date(2027, 2, 9))
    assert is_working_day(datetime.date(2027, 2, 20))
    assert working_days(datetime.date(2027, 3, 1), datetime.date(2027, 3, 31)) == 23


def test_the_working_days_figure_is_one_value_for_everyone_over_the_period(spring_festival):
    book = FigureBook(start=FEB_1, as_of=FEB_28)
    bar = book.evaluate({"working_days": "period", "times": "50"})
    assert bar.get(12345) == Decimal(900)
    month_to_date = FigureBook(start=FEB_1, as_of=datetime.date(2027, 2, 10))
    assert month_to_date.evaluate({"working_days": "period"}).get(1) == Decimal(5)  # Mon 1 – Fri 5


def test_the_working_day_average_divides_by_the_banks_working_days(small_bank, spring_festival):
    put_facts("TXN", [(small_bank["s4"], FEB_1 + datetime.timedelta(days=n), 50) for n in range(28)], level=2)
    book = FigureBook(start=FEB_1, as_of=FEB_28)
    got = book.evaluate({"indicator": "TXN", "measure": "working_day_average", "level": "staff"})
    assert got == {small_bank["s4"].pk: Decimal(1400) / Decimal(18)}


@pytest.mark.parametrize(
    ("expr", "place"),
    [
        ({"working_days": "month"}, "bar.working_days"),
        ({"working_days": "period", "times": "fifty"}, "bar.times"),
    ],
)
def test_a_wrong_working_days_figure_is_refused_naming_the_field(expr, place):
    with pytest.raises(ValidationError) as error:
        validate_expression(expr, "bar")
    assert place in error.value.messages[0]


def test_a_piece_rate_pays_above_a_bar_that_is_a_figure(small_bank, spring_festival):
    teller, other = small_bank["s4"], small_bank["s3"]
    put_facts("TXN", [(teller, FEB_1, 1000), (other, FEB_1, 880)], level=2)
    rule = PieceRate(
        {
            "figure": {"indicator": "TXN", "measure": "sum", "level": "staff"},
            "rate": "0.2",
            "above": {"working_days": "period", "times": "50"},
            "mode": "proportional",
        }
    )
    rule.validate()
    results = rule.results(Window(start=FEB_1, as_of=FEB_28))
    assert {sid: result.amount for sid, result in results.items()} == {
        teller.pk: Decimal("0.2") * 100,
        other.pk: Decimal(0),  # 880 is below the bar of 900: nothing, never negative
    }
    assert results[teller.pk].figures["above"] == "900"


def test_a_rule_with_a_bad_bar_figure_is_refused_on_save_naming_above(scheme):
    rule = RewardRule(
        scheme=scheme,
        code="teller",
        name="teller",
        kind="piece_rate",
        params={"figure": {"indicator": "TXN", "measure": "sum"}, "rate": "0.2", "above": {"working_days": "week"}},
    )
    with pytest.raises(ValidationError) as error:
        rule.full_clean()
    assert "above.working_days" in str(error.value)
