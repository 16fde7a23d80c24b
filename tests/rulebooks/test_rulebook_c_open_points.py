"""Rulebook C's open points on ranking, each switched to its alternative on the scoring test's data.

Each test loads the template, changes one setting in the loaded file the way a planner would (a
ranking's fields, a metric or gate added, and the record in ``campaign.options``), builds the data
set of ``test_rulebook_c_scoring`` (twelve agents and supervisors, three base companies in two war
zones; top N scaled down: TOP 300 → 3, 108将 → 2) and compares with the figures worked out by hand
below. The open points on awards (values, trips, non-stacking scope, recruitment) are the rewards
section's and are not scored.

The figures the rankings read (yuan):

staff  contest    short    green  team contest  recruits  grade review
A01    1,200,000  3,000    yes
A02    1,000,000  1,500    no
A03       80,000  2,000    yes    600,000       2         yes
A04      500,000  1,000    yes
A05      500,000  1,500    yes
A06       59,000  5,000    yes    900,000       1         yes
A07      300,000  1,499.5  yes
A08      150,000  2,000    yes
A09       60,000  1,500    yes    400,000       3         yes
A11      200,000  1,600    yes    700,000       2         no
A12      250,000  1,200    yes    300,000       2         yes
(A10 has no figures.) TOP 300 by default: A01 1, A02 2, A04 3, A05 3, A07 5, A12 6, A11 7; winners
A01 A02 A04 A05.

Base companies' first-year premiums and plans (the phases carry 30 %, 30 %, 10 %, 30 % of the
quarter plan):

company  zone  3 Jan    20 Jan   10 Feb     quarter plan
BC1      WZ1   210,000  100,000  2,800,000  1,000,000
BC2      WZ1   240,000   60,000  1,100,000    800,000
BC3      WZ2    60,000   90,000  2,900,000    500,000
"""

import datetime
from decimal import Decimal

from scoring import engine
from scoring.models import RankEntry, Ranking
from scoring.selectors import group_leaderboard
from tests.rulebooks.template_edits import choose, ranking
from tests.rulebooks.test_rulebook_c_scoring import (
    JAN_END,
    QUARTER_END,
    board,
    build_rulebook_c,
    by_code,
    winners,
)

TRIP_RANKINGS = ("top300", "fenjin", "supervisor_108")


# --- A place not taken ----------------------------------------------------------------------------------


def test_when_places_pass_down_an_agent_without_the_green_rating_leaves_the_trip_boards(db):
    """place_not_taken: pass_down (required_flags [green] on top300, fenjin and supervisor_108).
    A02 (not green) leaves them and the next in line move up: TOP 300 A01 1, A04 2, A05 2, A07 4,
    A12 5, A11 6 — A04 and A05 share second, so the three places go to A01 A04 A05 (A07 stays
    fourth); 奋进奖 A01 1, A05 2, A11 3, A08 4, A03 5, A09 6. The supervisors are all green: 108将
    is unchanged (A03 1, A09 2, A12 3)."""

    def pass_down(doc):
        for code in TRIP_RANKINGS:
            ranking(doc, code)["required_flags"] = [*ranking(doc, code).get("required_flags", []), "green"]
        choose(doc, place_not_taken="pass_down")

    campaign, _january, quarter = build_rulebook_c(pass_down)
    assert board(campaign, quarter, "top300") == {"A01": 1, "A04": 2, "A05": 2, "A07": 4, "A12": 5, "A11": 6}
    assert winners(campaign, quarter, "top300") == {"A01", "A04", "A05"}
    assert board(campaign, quarter, "fenjin") == {"A01": 1, "A05": 2, "A11": 3, "A08": 4, "A03": 5, "A09": 6}
    assert board(campaign, quarter, "supervisor_108") == {"A03": 1, "A09": 2, "A12": 3}


# --- Ties at a top-N cut ----------------------------------------------------------------------------------


def test_a_tie_break_figure_decides_the_tie_at_the_top300_cut(db):
    """top_n_ties: tie_break_metric short_term on top300. A04 and A05 both have 500,000 of contest
    premiums; A05's short-term premiums (1,500) beat A04's (1,000): A05 3, A04 4, so the three
    places go to A01 A02 A05 (all tied win by default: four winners)."""

    def short_term_decides(doc):
        ranking(doc, "top300")["tie_break_metric"] = "short_term"
        choose(doc, top_n_ties="tie_break_metric")

    campaign, _january, quarter = build_rulebook_c(short_term_decides)
    assert board(campaign, quarter, "top300") == {"A01": 1, "A02": 2, "A05": 3, "A04": 4, "A07": 5, "A12": 6, "A11": 7}
    assert winners(campaign, quarter, "top300") == {"A01", "A02", "A05"}


def test_ordinal_ties_give_the_last_top300_place_to_the_earlier_participant(db):
    """top_n_ties: tie_break ordinal on top300: equal values are numbered in the order the
    participants were listed, so A04 (listed before A05) is third and A05 fourth; winners A01 A02
    A04."""

    def ordinal(doc):
        ranking(doc, "top300")["tie_break"] = "ordinal"
        choose(doc, top_n_ties="ordinal")

    campaign, _january, quarter = build_rulebook_c(ordinal)
    assert board(campaign, quarter, "top300") == {"A01": 1, "A02": 2, "A04": 3, "A05": 4, "A07": 5, "A12": 6, "A11": 7}
    assert winners(campaign, quarter, "top300") == {"A01", "A02", "A04"}


# --- Eligibility floors before or after ranking ------------------------------------------------------------


def test_ranking_supervisors_before_the_floors_gives_the_two_places_to_ineligible_teams(db):
    """floors_before_ranking: false — supervisor_108 without its floors and grade-review flag ranks
    every team by its contest premiums: A06 900,000 1, A11 700,000 2, A03 600,000 3, A09 400,000 4,
    A12 300,000 5 (agents have no team figure and are not ranked). Its two places go to A06 (one
    effective recruit) and A11 (no grade review), neither of whom passes the floors, so "rank,
    then filter" leaves no 108将 winner (filtering first, the default, gives A03 and A09). The
    reward would have to check the floors itself, see the template's note."""

    def rank_first(doc):
        supervisors = ranking(doc, "supervisor_108")
        supervisors["eligibility"] = []
        supervisors["required_flags"] = []
        choose(doc, floors_before_ranking=False)

    campaign, _january, quarter = build_rulebook_c(rank_first)
    assert board(campaign, quarter, "supervisor_108") == {"A06": 1, "A11": 2, "A03": 3, "A09": 4, "A12": 5}
    passing_the_floors = {"A03", "A09", "A12"}
    assert winners(campaign, quarter, "supervisor_108") == {"A06", "A11"}
    assert winners(campaign, quarter, "supervisor_108") & passing_the_floors == set()


# --- War-zone stages ---------------------------------------------------------------------------------------


def test_war_zone_stages_by_phase_compare_each_phases_premiums_with_its_share_of_the_plan(db):
    """war_zone_stages: phases (period phase on war_zones; the phase the day falls in). A phase's
    plan is the quarter plan × its share. Each zone: Σ premiums ÷ Σ phase plans of its companies.

    7 January, first-sale week (30 %): WZ1 (210,000 + 240,000) ÷ (300,000 + 240,000) = 83.33 %,
    WZ2 60,000 ÷ 150,000 = 40 %: WZ1 first.
    31 January, first-sale month (8–31 January, 30 %): WZ1 (100,000 + 60,000) ÷ 540,000 = 29.63 %,
    WZ2 90,000 ÷ 150,000 = 60 %: WZ2 first — by the month (the default, January's own plans) WZ1
    led with 87.14 %."""

    def by_phase(doc):
        ranking(doc, "war_zones")["period"] = "phase"
        choose(doc, war_zone_stages="phases")

    campaign, _january, _quarter = build_rulebook_c(by_phase)
    engine.recompute(campaign.pk, datetime.date(2027, 1, 7))
    week = group_leaderboard(campaign.pk, datetime.date(2027, 1, 7), "war_zones")
    assert [(r.code, r.rank, r.actual_sum, r.target_sum, round(r.value, 4)) for r in week] == [
        ("WZ1", 1, 450_000, 540_000, Decimal("0.8333")), ("WZ2", 2, 60_000, 150_000, Decimal("0.4")),
    ]
    month = group_leaderboard(campaign.pk, JAN_END, "war_zones")
    assert [(r.code, r.rank, r.actual_sum, r.target_sum, round(r.value, 4)) for r in month] == [
        ("WZ2", 1, 90_000, 150_000, Decimal("0.6")), ("WZ1", 2, 160_000, 540_000, Decimal("0.2963")),
    ]


# --- The ranking's scope: a delivered provincial rank ------------------------------------------------------


PROVINCE_RANKS = {"A01": 12, "A02": 45, "A05": 150, "A04": 298, "A12": 300, "A07": 301, "A11": 1250}


def test_a_delivered_provincial_rank_decides_top300_and_its_cut_is_the_provinces(db):
    """ranking_scope: delivered. The province's TOP 300 rank of each agent is loaded as a figure
    (indicator INS_PROVINCE_TOP300_RANK, metric province_rank as delivered, 31 March): A01 12,
    A02 45, A05 150, A04 298, A12 300, A07 301, A11 1,250; X01 (not in the campaign) 3; the others
    none. top300 ranks that figure lowest first (descending false) with the province's floor
    already applied (no eligibility here), and a ceiling gate (metric_above 300) keeps the
    province's cut: A07 and A11 are out. Board: A01 1, A02 2, A05 3, A04 4, A12 5 (the city's own
    order puts A04 and A05 level and A12 sixth); all five are in the province's TOP 300."""

    def delivered(doc):
        doc["indicators"].append({
            "code": "INS_PROVINCE_TOP300_RANK", "name": "全省TOP300排名", "measure": "count",
            "kind": "delivered_aggregate", "unit_label": "名",
        })
        doc["metrics"].append({
            "code": "province_rank", "name": "全省TOP300排名", "measure": "count", "display_unit": "名",
            "kind": "count", "figure": "as_delivered", "position": 13, "components": [{"indicator": "INS_PROVINCE_TOP300_RANK"}],
        })
        top300 = ranking(doc, "top300")
        top300.update({"metric": "province_rank", "descending": False, "eligibility": [], "top_n": 300})
        doc["gates"] = [{
            "code": "province_top300", "name": "全省排名在300名之外", "kind": "metric_above", "metric": "province_rank",
            "maximum": 300, "rankings": ["top300"], "participants": {"level": "staff"},
        }]
        choose(doc, ranking_scope="delivered")

    ranks = [(code, "INS_PROVINCE_TOP300_RANK", QUARTER_END, Decimal(rank)) for code, rank in PROVINCE_RANKS.items()]
    ranks.append(("X01", "INS_PROVINCE_TOP300_RANK", QUARTER_END, Decimal(3)))
    campaign, _january, quarter = build_rulebook_c(delivered, more_figures=ranks)
    assert board(campaign, quarter, "top300") == {"A01": 1, "A02": 2, "A05": 3, "A04": 4, "A12": 5}
    entries = RankEntry.objects.filter(result_set_id=quarter.pk, ranking_id=Ranking.objects.get(campaign=campaign, code="top300").pk)
    assert {code: int(value) for code, value in by_code(entries, "value").items()} == {
        "A01": 12, "A02": 45, "A05": 150, "A04": 298, "A12": 300,
    }
    assert winners(campaign, quarter, "top300") == {"A01", "A02", "A05", "A04", "A12"}
