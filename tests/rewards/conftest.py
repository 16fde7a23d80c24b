"""Fixtures for rewards: a reward scheme over Q1 2027, two finance users, helpers to add facts and lock runs."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from branches import roles
from branches.models import Fact, Indicator, SubjectKind
from rewards import services
from rewards.models import PeriodKind, RewardScheme
from tests.conftest import make_user

Q1_START, JAN_END, FEB_END, Q1_END = (
    datetime.date(2027, 1, 1),
    datetime.date(2027, 1, 31),
    datetime.date(2027, 2, 28),
    datetime.date(2027, 3, 31),
)
BASE_DAY = datetime.date(2026, 12, 31)


@pytest.fixture
def finance(role_users):
    """Two finance users: the maker and the checker (four eyes)."""
    return {"maker": role_users[roles.FINANCE], "checker": make_user("finance_checker", roles.FINANCE)}


@pytest.fixture
def scheme(db):
    return RewardScheme.objects.create(code="Q1-2027", name="2027 首季开门红奖励", start=Q1_START, end=Q1_END)


def put_facts(indicator_code: str, rows, *, level: int = SubjectKind.UNIT) -> Indicator:
    """Store facts: rows of (subject, date, value); subject is a Unit or Staff instance."""
    indicator, _ = Indicator.objects.get_or_create(code=indicator_code, defaults={"name": indicator_code})
    for subject, day, value in rows:
        Fact.objects.update_or_create(
            indicator=indicator,
            subject_kind=level,
            subject_id=subject.pk,
            business_date=day,
            defaults={"value": Decimal(str(value))},
        )
    return indicator


def settle(run, finance):
    """Review, approve (by the other person) and lock a run, as finance does."""
    run = services.review_payout_run(run, by=finance["maker"])
    run = services.approve_payout_run(run, by=finance["checker"])
    return services.lock_payout_run(run, by=finance["checker"])


def pay(scheme, finance, period_end, *, kind=PeriodKind.MONTH, start=None):
    """Make a run for the month (or quarter) ending ``period_end``, settle it, return it."""
    start = start or period_end.replace(day=1)
    run = services.create_payout_run(
        scheme=scheme, period_kind=kind, period_start=start, period_end=period_end, by=finance["maker"]
    )
    return settle(run, finance)
