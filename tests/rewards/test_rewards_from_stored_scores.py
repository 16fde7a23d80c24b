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


@pytest.fixture
def ranked(scored):
    """``scored`` with a stored ranking on the increase: B1 150 (place 1), B4 120, B2 100, B3 80."""
    from scoring.models import Ranking

    build, scheme, finance = scored
    Ranking.objects.create(
        campaign=build.campaign, code="dep_rank", name="增量排名", basis="metric_figure", metric=build.metrics["dep"]
    )
    recompute(build.campaign.pk, Q1_END)
    return build, scheme, finance


@pytest.mark.parametrize(
    ("kind", "params"),
    [
        ("title", {"award": "前二名称号", "top_n": 2}),
        ("rank_prize", {"places": ["2000", "1000"]}),
    ],
)
def test_a_title_or_prize_by_place_goes_to_the_best_places_and_shows_them(ranked, kind, params):
    """A place ({rank: X}) is best when lowest: place 1 is rank 1 in the line, not the last one."""
    build, scheme, finance = ranked
    RewardRule.objects.create(
        scheme=scheme,
        code="TOP2",
        name="前二名",
        kind=kind,
        params={"by": {"rank": "dep_rank"}, "payment": "at_end", **params},
    )
    quarter = pay(scheme, finance, Q1_END, kind=PeriodKind.QUARTER, start=Q1_START)
    assert {line.unit_code: line.figures["rank"] for line in quarter.lines.all()} == {"B1": 1, "B4": 2}


def test_a_title_by_a_figure_ranks_the_highest_first_unless_told_otherwise(ranked):
    build, scheme, finance = ranked
    for code, order in (("HIGH", {}), ("LOW", {"order": "asc"})):
        RewardRule.objects.create(
            scheme=scheme,
            code=code,
            name=code,
            kind="title",
            params={"by": {"metric": "dep", "field": "actual"}, "award": code, "top_n": 1, "payment": "at_end", **order},
        )
    quarter = pay(scheme, finance, Q1_END, kind=PeriodKind.QUARTER, start=Q1_START)
    assert {(line.rule_name, line.unit_code, line.figures["rank"]) for line in quarter.lines.all()} == {
        ("HIGH", "B1", 1),
        ("LOW", "B3", 1),
    }


def test_pro_rata_is_paid_on_actual_over_target_rounded_once_at_the_end(db):
    """The sheets round a completion rate to 6 decimals when scores are stored, but keep actual and
    target exactly: 3,000 pro rata on an increase of 8,888,884 against 10,000,000 is
    3,000 × 0.8888884 = 2,666.6652 → 2,666.67 (on the stored 0.888888 it was 2,666.66)."""
    roles.ensure_role_groups()
    finance = {"maker": make_user("f1", roles.FINANCE), "checker": make_user("f2", roles.FINANCE)}
    build = Builder()
    build.branches("B1")
    build.metric("dep", figure="increase_over_base")
    build.facts("dep", Q1_END, B1=Decimal("18888884"))
    build.target("dep", "B1", 10_000_000, base=10_000_000)
    build.rule("dep", "completion", "dep", 100)
    recompute(build.campaign.pk, Q1_END)
    scheme = RewardScheme.objects.create(code="Q1R", name="奖励", campaign_code="Q1", start=Q1_START, end=Q1_END)
    RewardRule.objects.create(
        scheme=scheme, code="PR", name="按比例", kind="completion_bonus",
        params={"completion": {"metric": "dep", "field": "completion"}, "floor": "0.8", "amount": "3000", "payment": "at_end"},
    )
    line = pay(scheme, finance, Q1_END, kind=PeriodKind.QUARTER, start=Q1_START).lines.get()
    assert line.amount == Decimal("2666.67")
    assert Decimal(line.figures["completion"]) == Decimal("0.8888884")
