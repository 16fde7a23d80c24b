"""A manual adjustment is finance's decision: later computed runs never undo it."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db.models import Sum

from branches import roles
from rewards import services
from rewards.models import LineKind, PayoutLine, PeriodKind, RewardRule
from tests.conftest import make_user
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


@pytest.fixture
def clawed_back_twice(scheme, finance, small_bank, piece_rate):
    """January paid B1 3,000; finance took it back by hand (falsified figures); then the figures
    were corrected as well, so February's run computes a clawback of 3,000 on top: −3,000 net."""
    b1 = small_bank["b1"]
    put_facts("DEP", [(b1, BASE_DAY, 0), (b1, JAN_END, 3_000_000)])
    january = pay(scheme, finance, JAN_END)
    _take_back(scheme, finance, january.lines.get(), "-3000")
    put_facts("DEP", [(b1, JAN_END, 0), (b1, FEB_END, 0)])
    return services.create_payout_run(
        scheme=scheme, period_kind=PeriodKind.MONTH, period_start=FEB_END.replace(day=1), period_end=FEB_END,
        by=finance["maker"],
    )


def test_a_computed_clawback_on_top_of_a_manual_one_is_shown_and_blocks_approval(client, clawed_back_twice, finance):
    from django.urls import reverse

    from rewards import selectors

    run = clawed_back_twice
    clawback = run.lines.get()
    assert (clawback.kind, clawback.amount) == (LineKind.CLAWBACK, Decimal("-3000.00"))
    assert selectors.corrections_on_manual_adjustments(run) == [clawback]
    client.force_login(finance["maker"])
    page = client.get(reverse("rewards:run", args=[run.pk]))
    assert [line.pk for line in page.context["corrections_on_manual"]] == [clawback.pk]
    assert page.context["corrections_on_manual"][0].manual_total == Decimal("-3000.00")
    run = services.review_payout_run(run, by=finance["maker"])
    with pytest.raises(services.PayoutError) as refused:
        services.approve_payout_run(run, by=finance["checker"])
    assert refused.value.code == "corrections_on_manual" and f"#{clawback.pk}" in refused.value.messages[0]


def test_once_acknowledged_another_person_approves_it(clawed_back_twice, finance):
    run = services.review_payout_run(clawed_back_twice, by=finance["maker"])
    with pytest.raises(services.PayoutError):  # acknowledged while a draft only, like every change
        services.acknowledge_corrections_on_manual_adjustments(run, by=finance["checker"])
    run = services.return_payout_run_to_draft(run, by=finance["maker"])
    change = services.acknowledge_corrections_on_manual_adjustments(run, by=finance["checker"])
    assert change.details == {"lines": [run.lines.get().pk]}
    run = services.review_payout_run(run, by=finance["maker"])
    with pytest.raises(services.PayoutError) as refused:  # who acknowledged vouches for the lines
        services.approve_payout_run(run, by=finance["checker"])
    assert refused.value.code == "four_eyes"
    third = make_user("finance_third", roles.FINANCE)
    assert services.approve_payout_run(run, by=third).state == "approved"


def test_a_recalculation_needs_a_new_acknowledgement(clawed_back_twice, finance):
    run = clawed_back_twice
    services.acknowledge_corrections_on_manual_adjustments(run, by=finance["maker"])
    services.recalculate_payout_run(run, by=finance["maker"])
    run = services.review_payout_run(run, by=finance["maker"])
    with pytest.raises(services.PayoutError) as refused:
        services.approve_payout_run(run, by=make_user("finance_third", roles.FINANCE))
    assert refused.value.code == "corrections_on_manual"


def test_a_manual_line_offsetting_the_clawback_clears_the_warning(clawed_back_twice, finance, scheme):
    from rewards import selectors

    run = clawed_back_twice
    january_line = PayoutLine.objects.filter(run__state="locked", kind=LineKind.AWARD).get()
    services.add_adjustment_line(run, original=january_line, amount="3000", reason="已手工扣回，冲销重复扣回", by=finance["maker"])
    assert selectors.corrections_on_manual_adjustments(run) == []
    settle(run, finance)
    assert _net_paid("B1") == Decimal("0.00")  # 3,000 − 3,000 by hand − 3,000 computed + 3,000 offset


def test_a_recalculation_keeps_the_manual_adjustments_of_the_draft(clawed_back_twice, finance):
    run = clawed_back_twice
    january_line = PayoutLine.objects.filter(run__state="locked", kind=LineKind.AWARD).get()
    manual = services.add_adjustment_line(run, original=january_line, amount="3000", reason="冲销重复扣回", by=finance["maker"])
    services.recalculate_payout_run(run, by=finance["maker"])
    assert sorted((line.kind, line.amount) for line in run.lines.all()) == [
        (LineKind.CLAWBACK, Decimal("-3000.00")), (LineKind.MANUAL, Decimal("3000.00"))
    ]
    assert run.lines.filter(pk=manual.pk).exists()
