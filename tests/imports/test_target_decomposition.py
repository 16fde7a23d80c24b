"""Target decomposition: equal, weighted and last-year splits that add up exactly."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from branches.models import Fact, SubjectKind
from campaigns.decomposition import (
    DecompositionError,
    last_year_figures,
    split_by_last_year,
    split_by_weights,
    split_equally,
)


def test_equal_split_puts_the_rounding_remainder_on_the_named_participant():
    shares = split_equally(Decimal("100"), ["B1", "B2", "B3"], remainder_to="B2")
    assert shares == {"B1": Decimal("33.33"), "B2": Decimal("33.34"), "B3": Decimal("33.33")}


def test_weighted_split_in_whole_terminals():
    shares = split_by_weights(Decimal("36"), {"B1": 5, "B2": 3, "B3": 3}, remainder_to="B1", quantum=Decimal(1))
    assert shares == {"B1": Decimal("16"), "B2": Decimal("10"), "B3": Decimal("10")}


def test_last_year_split_is_proportional_and_ignores_negative_figures():
    shares = split_by_last_year(Decimal("1000"), {"B1": Decimal("300"), "B2": Decimal("100"), "B3": Decimal("-50")}, remainder_to="B1")
    assert shares == {"B1": Decimal("750.00"), "B2": Decimal("250.00"), "B3": Decimal("0.00")}


@pytest.mark.parametrize(
    ("weights", "remainder_to", "fragment"),
    [({}, "B1", "no participant"), ({"B1": 0, "B2": 0}, "B1", "add up to 0"), ({"B1": 1}, "B9", "B9"), ({"B1": -1, "B2": 2}, "B1", "negative")],
)
def test_impossible_splits_say_why(weights, remainder_to, fragment):
    with pytest.raises(DecompositionError, match=fragment):
        split_by_weights(Decimal("10"), weights, remainder_to=remainder_to)


@given(
    total=st.decimals(min_value=0, max_value=10**12, places=2),
    weights=st.lists(st.integers(min_value=1, max_value=10**6), min_size=1, max_size=30),
)
def test_shares_always_add_up_to_the_total(total, weights):
    keys = {f"U{i}": Decimal(w) for i, w in enumerate(weights)}
    shares = split_by_weights(total, keys, remainder_to="U0")
    assert sum(shares.values()) == total
    assert all(share >= 0 for share in shares.values())


def test_last_year_figures_sum_the_signed_components_over_the_range_with_zero_for_missing(small_bank, db):
    from branches.models import Indicator

    deposits = Indicator.objects.create(code="DEP", name="存款余额")
    fiscal = Indicator.objects.create(code="FISC", name="财政存款")
    b1 = small_bank["b1"].pk
    for day, indicator, value in (
        (datetime.date(2026, 1, 1), deposits, "5"), (datetime.date(2026, 1, 2), deposits, "7"),
        (datetime.date(2026, 1, 2), fiscal, "2"), (datetime.date(2026, 2, 1), deposits, "1000"),  # after the range
    ):
        Fact.objects.create(indicator=indicator, subject_kind=SubjectKind.UNIT, subject_id=b1, business_date=day, value=Decimal(value))
    figures = last_year_figures(
        subject_kind=SubjectKind.UNIT, subjects={"B1": b1, "B2": small_bank["b2"].pk},
        components=[(deposits.pk, 1), (fiscal.pk, -1)],  # deposits less fiscal deposits
        date_from=datetime.date(2026, 1, 1), date_to=datetime.date(2026, 1, 31),
    )
    assert figures == {"B1": Decimal("10"), "B2": Decimal("0")}


def test_tiny_named_share_never_turns_negative():
    # Half-up would give the others 4.31 of 4.30; they are then rounded down instead.
    shares = split_by_weights(Decimal("4.30"), {"U0": 1, "U1": 4, "U2": 1, "U3": 4, "U4": 2860}, remainder_to="U0")
    assert sum(shares.values()) == Decimal("4.30") and shares["U0"] >= 0
