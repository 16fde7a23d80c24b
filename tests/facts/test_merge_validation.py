"""merge_facts rejects bad figures set-based, naming the row and the column."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from branches.facts import FactSource, merge_facts
from branches.models import Fact, ImportBatch, SubjectKind
from tests.facts.conftest import DAY

UNIT = SubjectKind.UNIT


def merge(rows):
    return merge_facts(rows=rows, source=FactSource(kind=ImportBatch.Kind.MANUAL, actor="tester"))


def codes_of(outcome):
    return [(e.row_no, e.column) for e in outcome.errors]


def test_negative_count_is_rejected(small_bank, indicators):
    outcome = merge([(indicators["pos"].pk, UNIT, small_bank["b1"].pk, DAY, Decimal("-1"), 5)])
    assert codes_of(outcome) == [(5, "value")]
    assert "negative" in outcome.errors[0].message


def test_fractional_count_is_rejected(small_bank, indicators):
    outcome = merge([(indicators["pos"].pk, UNIT, small_bank["b1"].pk, DAY, Decimal("1.5"), 1)])
    assert "whole number" in outcome.errors[0].message


@pytest.mark.parametrize("rate", ["1.01", "-0.1"])
def test_rate_outside_0_to_100_percent_is_rejected(small_bank, indicators, rate):
    outcome = merge([(indicators["collection"].pk, UNIT, small_bank["b1"].pk, DAY, Decimal(rate), 1)])
    assert outcome.error_count == 1
    assert "rate" in outcome.errors[0].message


def test_rate_of_exactly_100_percent_is_accepted(small_bank, indicators):
    outcome = merge([(indicators["collection"].pk, UNIT, small_bank["b1"].pk, DAY, Decimal("1"), 1)])
    assert outcome.ok and outcome.new == 1


def test_unknown_indicator_is_rejected(small_bank, indicators):
    outcome = merge([(424242, UNIT, small_bank["b1"].pk, DAY, Decimal("1"), 1)])
    assert codes_of(outcome) == [(1, "indicator")]


def test_staff_id_given_as_unit_is_rejected(small_bank, indicators):
    staff_id = 10**9
    outcome = merge([(indicators["deposits"].pk, SubjectKind.STAFF, staff_id, DAY, Decimal("1"), 1)])
    assert codes_of(outcome) == [(1, "participant")]


def test_empty_and_non_numeric_values_are_rejected(small_bank, indicators):
    dep = indicators["deposits"].pk
    outcome = merge([(dep, UNIT, small_bank["b1"].pk, DAY, None, 1), (dep, UNIT, small_bank["b2"].pk, DAY, "12x", 2)])
    assert [e.row_no for e in outcome.errors] == [1, 2]
    assert "empty" in outcome.errors[0].message
    assert "12x" in outcome.errors[1].message


def test_same_key_twice_with_different_values_is_an_error_on_both_rows(small_bank, indicators):
    dep = indicators["deposits"].pk
    outcome = merge([(dep, UNIT, small_bank["b1"].pk, DAY, Decimal("1"), 1), (dep, UNIT, small_bank["b1"].pk, DAY, Decimal("2"), 2)])
    assert [e.row_no for e in outcome.errors] == [1, 2]
    assert Fact.objects.count() == 0


def test_same_key_twice_with_the_same_value_is_written_once(small_bank, indicators):
    dep = indicators["deposits"].pk
    outcome = merge([(dep, UNIT, small_bank["b1"].pk, DAY, Decimal("1"), 1), (dep, UNIT, small_bank["b1"].pk, DAY, Decimal("1.00"), 2)])
    assert (outcome.new, outcome.unchanged, outcome.error_count) == (1, 1, 0)
    assert Fact.objects.get().source_row == 1


def test_error_file_lists_every_error(small_bank, indicators, settings):
    dep = indicators["deposits"].pk
    outcome = merge([(dep, UNIT, 10**9 + n, DAY, Decimal("1"), n) for n in range(1, 4)])
    text = (settings.VAR_DIR / outcome.error_file).read_text(encoding="utf-8-sig")
    assert len(text.strip().splitlines()) == 1 + 3


def test_dates_outside_every_campaign_are_rejected_once_campaigns_exist(small_bank, indicators):
    from campaigns.models import Campaign

    Campaign.objects.create(code="Q1", name="开门红", start_date=datetime.date(2027, 1, 1), end_date=datetime.date(2027, 3, 31))
    dep = indicators["deposits"].pk
    outcome = merge(
        [
            (dep, UNIT, small_bank["b1"].pk, datetime.date(2026, 12, 31), Decimal("1"), 1),  # base day: accepted
            (dep, UNIT, small_bank["b1"].pk, datetime.date(2027, 6, 1), Decimal("1"), 2),
        ]
    )
    assert codes_of(outcome) == [(2, "business date")]


def test_conflicting_repeats_of_an_existing_figure_are_errors_and_change_nothing(small_bank, indicators):
    dep = indicators["deposits"].pk
    merge([(dep, UNIT, small_bank["b1"].pk, DAY, Decimal("5"), 1)])
    outcome = merge([(dep, UNIT, small_bank["b1"].pk, DAY, Decimal("5"), 1), (dep, UNIT, small_bank["b1"].pk, DAY, Decimal("6"), 2)])
    assert [e.row_no for e in outcome.errors] == [1, 2]
    assert Fact.objects.get().value == Decimal("5")


def test_a_repeated_new_figure_next_to_a_changed_one_is_written_once(small_bank, indicators):
    dep = indicators["deposits"].pk
    merge([(dep, UNIT, small_bank["b1"].pk, DAY, Decimal("5"), 1)])
    outcome = merge(
        [
            (dep, UNIT, small_bank["b1"].pk, DAY, Decimal("7"), 1),
            (dep, UNIT, small_bank["b2"].pk, DAY, Decimal("1"), 2),
            (dep, UNIT, small_bank["b2"].pk, DAY, Decimal("1"), 3),
        ]
    )
    assert (outcome.new, outcome.changed, outcome.unchanged, outcome.error_count) == (1, 1, 1, 0)


def test_the_same_correction_twice_is_one_change_and_one_version(small_bank, indicators):
    from branches.models import FactVersion

    dep = indicators["deposits"].pk
    merge([(dep, UNIT, small_bank["b1"].pk, DAY, Decimal("5"), 1)])
    outcome = merge([(dep, UNIT, small_bank["b1"].pk, DAY, Decimal("8"), 1), (dep, UNIT, small_bank["b1"].pk, DAY, Decimal("8"), 2)])
    assert (outcome.new, outcome.changed, outcome.unchanged, outcome.error_count) == (0, 1, 1, 0)
    fact = Fact.objects.get()
    assert (fact.value, fact.version_no, fact.source_row) == (Decimal("8"), 2, 1)
    assert FactVersion.objects.get().value == Decimal("5")


def test_two_different_corrections_of_one_figure_are_errors_and_change_nothing(small_bank, indicators):
    dep = indicators["deposits"].pk
    merge([(dep, UNIT, small_bank["b1"].pk, DAY, Decimal("5"), 1)])
    outcome = merge(
        [
            (dep, UNIT, small_bank["b2"].pk, DAY, Decimal("1"), 1),
            (dep, UNIT, small_bank["b1"].pk, DAY, Decimal("8"), 2),
            (dep, UNIT, small_bank["b1"].pk, DAY, Decimal("9"), 3),
        ]
    )
    assert [e.row_no for e in outcome.errors] == [2, 3]
    assert list(Fact.objects.values_list("value", flat=True)) == [Decimal("5")]
