"""A rule's period: dates, or a phase of its campaign (so moving the phase moves the reward)."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db.models import Sum

from branches import roles
from campaigns.models import Phase
from rewards.models import LineKind, PayoutLine, PeriodKind, RewardRule, RewardScheme
from tests.conftest import make_user
from tests.rewards.conftest import FEB_END, JAN_END, Q1_END, Q1_START, pay, put_facts
from tests.scoring.conftest import Builder


@pytest.fixture
def week(db):
    """Campaign Q1 with the phase ``week`` (1-7 January); B1 sells 100 on 3 January and 50 on 10 January."""
    roles.ensure_role_groups()
    finance = {"maker": make_user("f1", roles.FINANCE), "checker": make_user("f2", roles.FINANCE)}
    build = Builder()
    build.branches("B1")
    phase = Phase.objects.create(
        campaign=build.campaign, code="week", name="首卖周", start_date=Q1_START, end_date=datetime.date(2027, 1, 7)
    )
    put_facts("SALES", [(build.units["B1"], datetime.date(2027, 1, 3), 100), (build.units["B1"], datetime.date(2027, 1, 10), 50)])
    scheme = RewardScheme.objects.create(code="Q1R", name="奖励", campaign_code="Q1", start=Q1_START, end=Q1_END)
    RewardRule.objects.create(
        scheme=scheme,
        code="WEEK",
        name="首卖周计件",
        kind="piece_rate",
        params={"figure": {"indicator": "SALES", "measure": "sum"}, "rate": "1", "period": {"phase": "week"}},
    )
    return scheme, phase, finance


def test_a_rule_paid_for_a_phase_reads_the_phases_dates(week):
    scheme, _phase, finance = week
    january = pay(scheme, finance, JAN_END)
    line = january.lines.get()
    assert (line.amount, line.period_start, line.period_end) == (Decimal("100.00"), Q1_START, datetime.date(2027, 1, 7))


def test_moving_the_phase_moves_the_reward_and_settles_what_was_paid(week):
    scheme, phase, finance = week
    pay(scheme, finance, JAN_END)
    phase.start_date, phase.end_date = datetime.date(2027, 1, 8), datetime.date(2027, 1, 14)
    phase.save()
    february = pay(scheme, finance, FEB_END)
    line = february.lines.get()
    # The week is now 8-14 January: 50 sold; the 100 paid for the old week is settled against it.
    assert (line.kind, line.amount, line.period_start) == (LineKind.CLAWBACK, Decimal("-50.00"), datetime.date(2027, 1, 8))
    assert PayoutLine.objects.aggregate(total=Sum("amount"))["total"] == Decimal("50.00")


def test_a_phase_the_campaign_lacks_is_refused_naming_the_rule(week):
    scheme, _phase, _finance = week
    with pytest.raises(ValidationError) as error:
        RewardRule.objects.create(
            scheme=scheme, code="X", name="x", kind="piece_rate",
            params={"figure": {"indicator": "SALES", "measure": "sum"}, "rate": "1", "period": {"phase": "wek"}},
        )
    assert any("X" in message and "wek" in message for message in error.value.messages)


@pytest.mark.parametrize(
    ("period", "field"),
    [
        ({"phase": "week", "start": "2027-01-01"}, "period.phase"),
        ({"begin": "2027-01-01"}, "period"),
        ({"start": "1 January"}, "period.start"),
    ],
)
def test_a_malformed_period_is_refused_naming_the_field(week, period, field):
    scheme, _phase, _finance = week
    rule = RewardRule(
        scheme=scheme, code="X", name="x", kind="piece_rate",
        params={"figure": {"indicator": "SALES", "measure": "sum"}, "rate": "1", "period": period},
    )
    with pytest.raises(ValidationError) as error:
        rule.full_clean()
    assert error.value.messages[0].startswith(field)


def test_an_each_month_payment_is_settled_in_its_month_after_the_period_start_moved(scheme, finance, small_bank):
    """Editing a rule's start (1 → 5 January) keeps January's payment in January's window."""
    b1 = small_bank["b1"]
    put_facts("SALES", [(b1, datetime.date(2027, 1, 3), 100), (b1, datetime.date(2027, 1, 10), 50)])
    rule = RewardRule.objects.create(
        scheme=scheme, code="M", name="月度计件", kind="piece_rate",
        params={"figure": {"indicator": "SALES", "measure": "sum"}, "rate": "1", "payment": "each_month"},
    )
    pay(scheme, finance, JAN_END)
    rule.params = {**rule.params, "period": {"start": "2027-01-05"}}
    rule.save()
    february = pay(scheme, finance, FEB_END, kind=PeriodKind.MONTH)
    line = february.lines.get()
    assert (line.kind, line.amount, line.period_start) == (LineKind.CLAWBACK, Decimal("-100.00"), datetime.date(2027, 1, 5))
