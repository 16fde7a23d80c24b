"""A figure's value "on" a day is the latest fact on or before it within its calendar month.

31 January 2027 is a Sunday: a balance or rate delivered on business days has its last January
fact on Friday 29 January. Read on the exact day it would be missing, and a whole-bank condition
(the bank's increase ≥ its task) or a penalty on the month-end rate would never apply.

HO's deposits: 31 Dec 2026 (Thursday) 10,000,000; 28 Jan 11,000,000; 29 Jan 12,500,000; nothing on
30 or 31 Jan. B1: 28 Dec 2026 only (nothing in January: no January figure, never December's).
B2: 29 Jan 700 and 31 Jan 800 (the day's own fact wins).
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from rewards.figures import FigureBook
from tests.rewards.conftest import put_facts

JAN_1, JAN_31 = datetime.date(2027, 1, 1), datetime.date(2027, 1, 31)


def load(bank):
    put_facts(
        "DEP",
        [
            (bank["ho"], datetime.date(2026, 12, 31), 10_000_000),
            (bank["ho"], datetime.date(2027, 1, 28), 11_000_000),
            (bank["ho"], datetime.date(2027, 1, 29), 12_500_000),
            (bank["b1"], datetime.date(2026, 12, 28), 900),
            (bank["b2"], datetime.date(2027, 1, 29), 700),
            (bank["b2"], JAN_31, 800),
        ],
    )


def test_a_value_on_a_weekend_month_end_is_the_last_business_days(small_bank):
    load(small_bank)
    book = FigureBook(start=JAN_1, as_of=JAN_31)
    assert book.evaluate({"indicator": "DEP", "measure": "value"}) == {
        small_bank["ho"].pk: Decimal(12_500_000),
        small_bank["b2"].pk: Decimal(800),
    }
    assert book.evaluate({"indicator": "DEP", "measure": "increase"}) == {small_bank["ho"].pk: Decimal(2_500_000)}


def test_the_whole_bank_task_is_read_on_the_last_business_day(small_bank):
    load(small_bank)
    book = FigureBook(start=JAN_1, as_of=JAN_31)
    bank_increase = book.evaluate({"of_unit": "HO", "figure": {"indicator": "DEP", "measure": "increase"}})
    assert small_bank["b3"].pk in bank_increase  # one value for everyone, not "missing"
    assert bank_increase[small_bank["b3"].pk] == Decimal(2_500_000)
