"""A manual adjustment is finance's decision: later computed runs never undo it."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db.models import Sum

from rewards import services
from rewards.models import LineKind, PayoutLine, PeriodKind, RewardRule
from tests.rewards.conftest import BASE_DAY, FEB_END, JAN_END, Q1_END, Q1_START, pay, put_facts, settle


@pytest.fixture
def piece_rate(scheme):
    return RewardRule.objects.create(
        scheme=scheme,
        code="P",
        name="计件",
        kind="piece_rate",
        params={"figure": {"indicator": "DEP", "measure": "increase"}, "rate": "1000", "per": "1000000"},
    )


def _take_back(scheme, finance, original, amount):
    """A correction run ending on January's last day with one manual line, settled."""
    run = services.create_payout_run(
        scheme=scheme, period_kind=PeriodKind.CORRECTION, period_start=Q1_START, period_end=JAN_END, by=finance["maker"]
    )
    line = services.add_adjustment_line(run, original=original, amount=amount, reason="falsified (退钱交荣誉)", by=finance["maker"])
    assert line.kind == LineKind.MANUAL and line.adjusts == original
    # The other finance user reviews here: the maker added the line, so the checker approves.
    return settle(run, finance)


def _net_paid(unit_code):
    return PayoutLine.objects.filter(unit_code=unit_code).aggregate(total=Sum("amount"))["total"]


def test_a_manual_clawback_is_not_paid_back_by_the_next_run(scheme, finance, small_bank, piece_rate):
    b1 = small_bank["b1"]
    put_facts("DEP", [(b1, BASE_DAY, 0), (b1, JAN_END, 3_000_000), (b1, FEB_END, 3_000_000)])
    january = pay(scheme, finance, JAN_END)
    _take_back(scheme, finance, january.lines.get(), "-3000")

    february = pay(scheme, finance, FEB_END)

    assert list(february.lines.all()) == []  # figures unchanged: nothing to correct
    assert _net_paid("B1") == Decimal("0.00")


def test_after_a_manual_adjustment_a_later_rise_is_still_trued_up(scheme, finance, small_bank, piece_rate):
    b1 = small_bank["b1"]
    put_facts("DEP", [(b1, BASE_DAY, 0), (b1, JAN_END, 3_000_000), (b1, FEB_END, 4_000_000)])
    january = pay(scheme, finance, JAN_END)
    _take_back(scheme, finance, january.lines.get(), "-3000")

    february = pay(scheme, finance, FEB_END)

    line = february.lines.get()
    # Only the computed entitlement is compared with the computed payments; the manual −3000 stays.
    assert (line.kind, line.amount) == (LineKind.TRUE_UP, Decimal("1000.00"))
    assert "3000.00" in line.formula and "-3000.00" in line.formula  # paid 3000, manual −3000 stands
    assert _net_paid("B1") == Decimal("1000.00")


def test_a_manual_line_does_not_hide_the_award_still_held(scheme, finance, small_bank):
    """The award held is read from the last computed line, not from a manual line (which has none)."""
    b1 = small_bank["b1"]
    put_facts("SALES", [(b1, JAN_END, 150)])
    RewardRule.objects.create(
        scheme=scheme,
        code="G",
        name="礼品",
        kind="threshold_bands",
        params={
            "figure": {"indicator": "SALES", "measure": "sum"},
            "bands": [{"from": "100", "amount": "100", "award": "gift", "value": "200"}],
        },
    )
    january = pay(scheme, finance, JAN_END)
    _take_back(scheme, finance, january.lines.get(), "-50")

    march = pay(scheme, finance, Q1_END, kind=PeriodKind.QUARTER, start=Q1_START)

    assert list(march.lines.all()) == []
    assert _net_paid("B1") == Decimal("50.00")
