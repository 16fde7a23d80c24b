"""Rules read the scoring engine's stored results: completion rates, met-all-targets, targets, flags."""

from __future__ import annotations

from decimal import Decimal

import pytest

from branches import roles
from rewards.models import PeriodKind, RewardRule, RewardScheme
from scoring.engine import recompute
from scoring.services import set_flag
from tests.conftest import make_user
from tests.rewards.conftest import Q1_END, Q1_START, pay
from tests.scoring.conftest import Builder


@pytest.fixture
def scored(db):
    roles.ensure_role_groups()
    finance = {"maker": make_user("f1", roles.FINANCE), "checker": make_user("f2", roles.FINANCE)}
    build = Builder()
    build.branches("B1", "B2", "B3", "B4")
    build.metric("dep", figure="increase_over_base")
    build.facts("dep", Q1_END, B1=1150, B2=1100, B3=1080, B4=1120)
    for code in ("B1", "B2", "B3", "B4"):
        build.target("dep", code, 100, base=1000)
    build.rule("dep", "completion", "dep", 100)
    recompute(build.campaign.pk, Q1_END)
    scheme = RewardScheme.objects.create(
        code="Q1R", name="奖励", campaign_code="Q1", start=Q1_START, end=Q1_END
    )
    return build, scheme, finance


def test_rank_prize_among_those_who_met_every_target_by_stored_completion(scored):
    build, scheme, finance = scored
    RewardRule.objects.create(
        scheme=scheme,
        code="TOP",
        name="前三名",
        kind="rank_prize",
        params={
            "by": {"metric": "dep", "field": "completion"},
            "places": ["20000", "15000", "12000"],
            "payment": "at_end",
            "conditions": [{"figure": {"score": "met_all_targets"}, "op": "==", "value": "1"}],
        },
    )
    quarter = pay(scheme, finance, Q1_END, kind=PeriodKind.QUARTER, start=Q1_START)
    # Completion: B1 150 %, B4 120 %, B2 100 %; B3 (80 %) missed its target and is out.
    assert {line.unit_code: line.amount for line in quarter.lines.all()} == {
        "B1": Decimal("20000.00"),
        "B4": Decimal("15000.00"),
        "B2": Decimal("12000.00"),
    }


def test_piece_rate_on_excess_over_the_campaign_target_needs_green_flag(scored):
    build, scheme, finance = scored
    set_flag(participant=build.participants["B1"], code="green")
    set_flag(participant=build.participants["B4"], code="green")
    RewardRule.objects.create(
        scheme=scheme,
        code="EXCESS",
        name="超额千分之一",
        kind="piece_rate",
        params={
            "figure": {"sum": [{"metric": "dep", "field": "actual"}]},
            "rate": "1",
            "per": "1",
            "mode": "proportional",
            "above": "100",
            "payment": "at_end",
            "conditions": [
                {"figure": {"flag": "green"}, "op": "==", "value": "1"},
                {"figure": {"metric": "dep", "field": "actual"}, "op": ">=", "value": {"target": "dep"}},
            ],
        },
    )
    quarter = pay(scheme, finance, Q1_END, kind=PeriodKind.QUARTER, start=Q1_START)
    # Actual increases: B1 150, B4 120 (both green, both over the target of 100): paid on the part above 100.
    assert {line.unit_code: line.amount for line in quarter.lines.all()} == {
        "B1": Decimal("50.00"),
        "B4": Decimal("20.00"),
    }
