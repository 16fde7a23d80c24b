"""A non-cash award that changes between runs: an upgrade is a true-up, a downgrade or a loss a clawback."""

from __future__ import annotations

from decimal import Decimal

import pytest

from rewards.models import LineKind, PeriodKind, RewardRule
from tests.rewards.conftest import FEB_END, JAN_END, Q1_END, Q1_START, pay, put_facts


@pytest.fixture
def gifts(scheme):
    """Threshold bands paying no cash: a gift (worth 200) from 100, a dinner (worth 500) from 200."""
    return RewardRule.objects.create(
        scheme=scheme,
        code="G",
        name="礼品",
        kind="threshold_bands",
        params={
            "figure": {"indicator": "SALES", "measure": "value"},
            "bands": [
                {"from": "100", "award": "gift", "value": "200"},
                {"from": "200", "award": "dinner", "value": "500"},
            ],
        },
    )


def _line(run):
    line = run.lines.get()
    return line.kind, line.amount, line.non_cash_award, line.comparison_value


def test_an_upgrade_to_a_higher_valued_award_is_a_true_up(scheme, finance, small_bank, gifts):
    b1 = small_bank["b1"]
    put_facts("SALES", [(b1, JAN_END, 150), (b1, FEB_END, 250)])
    january = pay(scheme, finance, JAN_END)
    february = pay(scheme, finance, FEB_END)

    assert _line(january) == (LineKind.AWARD, Decimal("0.00"), "gift", Decimal("200.00"))
    assert _line(february) == (LineKind.TRUE_UP, Decimal("0.00"), "dinner", Decimal("500.00"))
    assert february.lines.get().adjusts == january.lines.get()


def test_a_downgrade_to_a_lower_valued_award_is_a_clawback(scheme, finance, small_bank, gifts):
    b1 = small_bank["b1"]
    put_facts("SALES", [(b1, JAN_END, 250), (b1, FEB_END, 150)])
    pay(scheme, finance, JAN_END)
    february = pay(scheme, finance, FEB_END)

    assert _line(february) == (LineKind.CLAWBACK, Decimal("0.00"), "gift", Decimal("200.00"))


def test_an_award_earned_again_after_it_was_revoked_is_a_true_up(scheme, finance, small_bank, gifts):
    b1 = small_bank["b1"]
    put_facts("SALES", [(b1, JAN_END, 150), (b1, FEB_END, 50), (b1, Q1_END, 120)])
    pay(scheme, finance, JAN_END)
    february = pay(scheme, finance, FEB_END)
    quarter = pay(scheme, finance, Q1_END, kind=PeriodKind.QUARTER, start=Q1_START)

    kind, amount, award, _value = _line(february)
    assert (kind, amount, february.lines.get().revokes_award) == (LineKind.CLAWBACK, Decimal("0.00"), True)
    assert "gift" in award
    assert _line(quarter) == (LineKind.TRUE_UP, Decimal("0.00"), "gift", Decimal("200.00"))
