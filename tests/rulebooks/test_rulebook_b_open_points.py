"""Rulebook B's open points, each switched to its alternative on the scoring test's twelve units.

Each test loads the template, changes one setting in the loaded file the way a planner would (rule
parameters, ranking fields, a gate, and the record in ``campaign.options``), builds the data set
of ``test_rulebook_b_scoring`` (same plans and figures), recomputes 31 March 2027 and compares
with the figures worked out by hand below. Amounts in 万元. The default scores (the table of
``test_rulebook_b_scoring``) are the starting point:

unit  corp avg / bal / growth      sav avg / bal / growth      intl  bonus  total   met all plans
D1    24 / 18 / 18                 12 / 9 / 9                  10    20     120     yes
D2    19.2 / 18 / 18               9.6 / 7.5 / 9               9     10     100.3   yes
D3    21.6 / 13.5 / 16.2           10.8 / 8.1 / 9              10    0      89.2
D4    14.4 / 15 / 18               7.2 / 4.5 / 5.4             5     20     89.5
D5    12 / 9 / 18                  6 / 6.75 / 9                10    5      75.75   yes
D6    0 / 0 / 0  (−200 / −300)     2.4 / 2.25 / 2.7            3     0      10.35
D7    19.2 / 15 / 18               9.6 / 9 / 9                 9     15     103.8   yes
D8    24 / 16.2 / 18               10.8 / 7.2 / 8.64           8.5   5      98.34
S1    —                            12 / 9 / 9                  —     10     40      yes
S2    —                            9.6 / 7.5 / 9               —     0      26.1    yes
S3    —                            10.8 / 7.2 / 8.64           —     5      31.64
S4    —                            7.68 / 6 / 7.2              —     0      20.88

Growth completion (balance increase ÷ planned balance increase): corporate D1 1.2, D2 1.2, D3 0.9,
D4 1, D5 1, D6 −0.3, D7 1, D8 1.08; savings D1 1.2, D2 1, D3 1.08, D4 0.6, D5 1, D6 0.3, D7 1.2,
D8 0.96, S1 1.2, S2 1, S3 0.96, S4 0.8. A missed bonus item is at 90 % of its plan.
"""

import datetime
from decimal import Decimal

from branches.models import SubjectKind
from scoring.models import ParticipantResult, RankEntry, Ranking
from tests.rulebooks.template_edits import choose, ranking, rule
from tests.rulebooks.test_rulebook_b_scoring import (
    EXPECTED_TOTALS,
    HEAD_OFFICE_STAFF,
    INSTITUTION,
    SAVINGS_OFFICE,
    UNITS,
    board,
    build_rulebook_b,
    by_code,
    d,
    expected,
    group_board,
    metric_results,
    q,
    rule_points,
)

RELATIVE_RULES = ("corp_avg", "corp_bal", "sav_avg", "sav_bal", "intl")
GATED_RANKINGS = ("prize_top6", "savings_top6", "single_corporate", "single_savings", "single_intl")


def unit_results(result_set, field) -> dict:
    rows = ParticipantResult.objects.filter(result_set_id=result_set.pk)
    return {code: value for code, value in by_code(rows, field).items() if code in UNITS}


def in_top(campaign, result_set, code) -> set[str]:
    ranking_id = Ranking.objects.get(campaign=campaign, code=code).pk
    return set(by_code(RankEntry.objects.filter(result_set_id=result_set.pk, ranking_id=ranking_id, in_top=True), "rank"))


# --- Relative to the best --------------------------------------------------------------------------


def test_with_negative_shares_allowed_a_fall_costs_points(db):
    """negative_increase: negative (allow_negative true on every relative-to-best rule). D6's
    corporate deposits fell: avg 24 × −200 ÷ 1,000 = −4.8, bal 18 × −300 ÷ 1,200 = −4.5; the growth
    part is a completion rule (floor 0) and stays 0. Corporate −9.3, total 10.35 − 9.3 = 1.05. No
    other unit has a negative increase."""

    def allow_negative(doc):
        for code in RELATIVE_RULES:
            rule(doc, code)["params"]["allow_negative"] = True
        choose(doc, negative_increase="negative")

    campaign, result_set = build_rulebook_b(allow_negative)
    assert rule_points(campaign, result_set, "corp_avg")["D6"] == q(d("-4.8"))
    assert rule_points(campaign, result_set, "corp_bal")["D6"] == q(d("-4.5"))
    assert rule_points(campaign, result_set, "corp_growth")["D6"] == 0
    assert rule_points(campaign, result_set, "corporate")["D6"] == q(d("-9.3"))
    totals = {code: q(value) for code, value in unit_results(result_set, "total_points").items()}
    assert totals == expected(EXPECTED_TOTALS | {"D6": "1.05"})


def test_with_the_best_taken_over_all_competitors_savings_offices_score_against_the_institutions(db):
    """relative_best_within: all (no group_set on the relative-to-best rules). The institutions'
    best is everyone's best (savings avg 500 D1, bal 600 D1 D7; corporate and international only
    institutions have), so their points stay. The savings offices' savings parts are now shares of
    500 and 600: S1 12 × 250 ÷ 500 = 6, 9 × 300 ÷ 600 = 4.5, growth 9 → 19.5, total 29.5; S2 4.8 +
    3.75 + 9 = 17.55; S3 5.4 + 3.6 + 8.64 = 17.64, + 5 bonus = 22.64; S4 3.84 + 3 + 7.2 = 14.04."""

    def best_of_all(doc):
        for code in RELATIVE_RULES:
            rule(doc, code).pop("group_set")
        choose(doc, relative_best_within="all")

    campaign, result_set = build_rulebook_b(best_of_all)
    assert {code: points for code, points in rule_points(campaign, result_set, "savings").items() if code in UNITS} == expected({
        "D1": 30, "D2": "26.1", "D3": "27.9", "D4": "17.1", "D5": "21.75", "D6": "7.35", "D7": "27.6", "D8": "26.64",
        "S1": "19.5", "S2": "17.55", "S3": "17.64", "S4": "14.04",
    })
    totals = {code: q(value) for code, value in unit_results(result_set, "total_points").items()}
    assert totals == expected(EXPECTED_TOTALS | {"S1": "29.5", "S2": "17.55", "S3": "22.64", "S4": "14.04"})


# --- The growth-rate part --------------------------------------------------------------------------


def test_a_growth_part_capped_at_1_2_pays_up_to_120_percent_of_the_planned_rate(db):
    """growth_rate_part: cap 1.2 on corp_growth (18) and sav_growth (9): 18 × min(rate, 1.2),
    9 × min(rate, 1.2). Corporate D1 and D2 (1.2) 21.6, D8 (1.08) 19.44, D3 16.2, D4 D5 D7 18,
    D6 0; savings D1 D7 S1 (1.2) 10.8, D3 (1.08) 9.72, D2 D5 S2 9, D8 S3 (0.96) 8.64, S4 7.2, D4
    5.4, D6 2.7."""

    def cap_growth(doc):
        for code in ("corp_growth", "sav_growth"):
            rule(doc, code)["params"]["cap"] = "1.2"
        choose(doc, growth_rate_part="completion_capped_at_1.2")

    campaign, result_set = build_rulebook_b(cap_growth)
    corporate = rule_points(campaign, result_set, "corp_growth")
    assert {code: corporate[code] for code in UNITS if code.startswith("D")} == expected({
        "D1": "21.6", "D2": "21.6", "D3": "16.2", "D4": 18, "D5": 18, "D6": 0, "D7": 18, "D8": "19.44",
    })
    assert {code: v for code, v in rule_points(campaign, result_set, "sav_growth").items() if code in UNITS} == expected({
        "D1": "10.8", "D2": 9, "D3": "9.72", "D4": "5.4", "D5": 9, "D6": "2.7", "D7": "10.8", "D8": "8.64",
        "S1": "10.8", "S2": 9, "S3": "8.64", "S4": "7.2",
    })


def test_a_growth_part_on_the_planned_rate_itself_scores_as_on_the_planned_increase(db):
    """The template's note: to enter the planned rate itself, add a growth_rate metric and point the
    part at it. Corporate base 20,000 for every institution, so the planned rate is the planned
    increase ÷ 20,000: 1,000 → 0.05 (D5: 600 → 0.03). Actual rates: D1 1,200 → 0.06 (1.2 of plan,
    capped) 18, D2 18, D3 900 → 0.045 (0.9) 16.2, D4 D5 D7 18, D6 −300 → −0.015 (floored) 0,
    D8 1,080 → 0.054 (1.08) 18: the same points as on the planned increase. The savings offices
    have no corporate plan and score 0 as before."""

    def growth_on_the_rate(doc):
        doc["metrics"].append({
            "code": "corp_growth_rate", "name": "对公存款增长率", "display_unit": "%", "measure": "rate",
            "kind": "balance", "figure": "growth_rate", "position": 13, "components": [{"indicator": "CORP_DEP_BAL"}],
        })
        rule(doc, "corp_growth")["metric"] = "corp_growth_rate"
        doc["targets"] += [
            {"participant": code, "metric": "corp_growth_rate", "period": "campaign", "target": "0.03" if code == "D5" else "0.05"}
            for code in UNITS
            if code.startswith("D")
        ]
        choose(doc, growth_rate_part="completion_of_the_planned_rate")

    campaign, result_set = build_rulebook_b(growth_on_the_rate)
    rates = metric_results(campaign, result_set, "corp_growth_rate")
    completion = metric_results(campaign, result_set, "corp_growth_rate", "completion")
    assert (q(rates["D3"]), q(rates["D6"]), q(completion["D3"]), q(completion["D8"])) == (
        q(d("0.045")), q(d("-0.015")), q(d("0.9")), q(d("1.08"))
    )
    points = rule_points(campaign, result_set, "corp_growth")
    assert {code: points[code] for code in UNITS} == expected({
        "D1": 18, "D2": 18, "D3": "16.2", "D4": 18, "D5": 18, "D6": 0, "D7": 18, "D8": 18,
        "S1": 0, "S2": 0, "S3": 0, "S4": 0,
    })
    assert {code: q(value) for code, value in unit_results(result_set, "total_points").items()} == expected(EXPECTED_TOTALS)


def test_a_growth_part_scored_only_from_80_percent_of_plan_gives_nothing_below_it(db):
    """Completion's zero_below, on a reading of the growth-rate part (the source names the plan but
    no formula) that borrows rule 7's "from 80 % (inclusive) in proportion": zero_below 0.8 on
    corp_growth and sav_growth. Savings: D4 (0.6) 5.4 → 0, D6 (0.3) 2.7 → 0; S4 at exactly 0.8
    keeps 7.2; everyone else is at 0.9 or more and keeps the default points. Corporate: only D6
    (−0.3) is below, already 0."""

    def from_80_percent(doc):
        for code in ("corp_growth", "sav_growth"):
            rule(doc, code)["params"]["zero_below"] = "0.8"
        choose(doc, growth_rate_part="completion_capped_from_0.8")

    campaign, result_set = build_rulebook_b(from_80_percent)
    assert {code: v for code, v in rule_points(campaign, result_set, "sav_growth").items() if code in UNITS} == expected({
        "D1": 9, "D2": 9, "D3": 9, "D4": 0, "D5": 9, "D6": 0, "D7": 9, "D8": "8.64",
        "S1": 9, "S2": 9, "S3": "8.64", "S4": "7.2",
    })
    assert rule_points(campaign, result_set, "corp_growth")["D3"] == q(d("16.2"))  # 0.9: above the floor


# --- Bonus items and "met all plans" ---------------------------------------------------------------


def test_proportional_bonus_items_give_five_times_completion(db):
    """bonus_items: proportional (mode proportional, cap 1): a met item 5, a missed one at 90 %
    4.5. Institutions have four items: D1 D4 (4 met) 20, D7 (3) 19.5, D2 (2) 19, D5 D8 (1) 18.5,
    D3 D6 (0) 18; savings offices two (personal, mobile; no plan for the others: 0): S1 10, S3 9.5,
    S2 S4 9. Totals: the default's base points + these: D1 120, D2 109.3, D3 107.2, D4 89.5, D5
    89.25, D6 28.35, D7 108.3, D8 111.84, S1 40, S2 35.1, S3 36.14, S4 29.88."""

    def proportional(doc):
        for item in ("ebank_personal", "ebank_corp", "mobile_bank", "phone_pos"):
            rule(doc, f"bonus_{item}")["params"] = {"mode": "proportional", "cap": 1}
        choose(doc, bonus_items="proportional")

    campaign, result_set = build_rulebook_b(proportional)
    assert {code: q(v) for code, v in unit_results(result_set, "bonus_points").items()} == expected({
        "D1": 20, "D2": 19, "D3": 18, "D4": 20, "D5": "18.5", "D6": 18, "D7": "19.5", "D8": "18.5",
        "S1": 10, "S2": 9, "S3": "9.5", "S4": 9,
    })
    assert {code: q(v) for code, v in unit_results(result_set, "total_points").items()} == expected({
        "D1": 120, "D2": "109.3", "D3": "107.2", "D4": "89.5", "D5": "89.25", "D6": "28.35", "D7": "108.3",
        "D8": "111.84", "S1": 40, "S2": "35.1", "S3": "36.14", "S4": "29.88",
    })


def test_when_met_all_plans_covers_the_bonus_items_only_d1_and_s1_qualify(db):
    """met_all_covers_bonus: true. Of the six that met every scored plan, D2 (missed corporate
    online banking and phone POS), D5 (three items), D7 (phone POS) and S2 (both its items) missed a
    bonus plan; D1 met all four, S1 both of its two (the others have no plan for it). The institution
    prize then holds D1 alone."""

    def covers_bonus(doc):
        choose(doc, met_all_covers_bonus=True)

    campaign, result_set = build_rulebook_b(covers_bonus)
    met = {code for code, flag in unit_results(result_set, "met_all_targets").items() if flag}
    assert met == {"D1", "S1"}
    assert group_board(campaign, result_set, "prize_top6", INSTITUTION) == {"D1": 1}


# --- Prize pools and the pro-rata list ---------------------------------------------------------------


def test_ranking_before_filtering_lets_the_top_six_of_everyone_decide_the_institution_prize(db):
    """prize_pool_order: rank_then_filter — prize_top6 without its required flag ranks every
    institution by score: D1 1, D7 2, D2 3, D8 4, D4 5, D3 6, D5 7, D6 8, and its top six are D1
    D7 D2 D8 D4 D3. Of those, D1, D7 and D2 met every plan; D5 (fourth among the eligible by
    default) falls outside the six. (Paying it so needs the reward to read the place too, see the
    template's note.)"""

    def rank_first(doc):
        ranking(doc, "prize_top6")["required_flags"] = []
        choose(doc, prize_pool_order="rank_then_filter")

    campaign, result_set = build_rulebook_b(rank_first)
    assert group_board(campaign, result_set, "prize_top6", INSTITUTION) == {
        "D1": 1, "D7": 2, "D2": 3, "D8": 4, "D4": 5, "D3": 6, "D5": 7, "D6": 8,
    }
    met = {code for code, flag in unit_results(result_set, "met_all_targets").items() if flag}
    top_six = in_top(campaign, result_set, "prize_top6") & set(group_board(campaign, result_set, "prize_top6", INSTITUTION))
    assert top_six == {"D1", "D7", "D2", "D8", "D4", "D3"}
    assert top_six & met == {"D1", "D7", "D2"}


def test_a_pro_rata_floor_of_75_percent_lists_d4_at_exactly_75_percent(db):
    """pro_rata_from 0.75 (the floors of deposits_80pct; the rewards' floor changes with it): D4's
    whole-deposit daily average is (600 + 300) ÷ (800 + 400) = 0.75 exactly and its balance
    (1,000 + 300) ÷ (1,000 + 500) = 0.8667, so it joins the list; D6 (fell) and H3 (0.5 / 0.6)
    stay out."""

    def floor_75(doc):
        for floor in ranking(doc, "deposits_80pct")["eligibility"]:
            floor["min"] = "0.75"
        choose(doc, pro_rata_from="0.75")

    campaign, result_set = build_rulebook_b(floor_75)
    assert set(board(campaign, result_set, "deposits_80pct")) == {
        "D1", "D2", "D3", "D4", "D5", "D7", "D8", "S1", "S2", "S3", "S4", "H1", "H2",
    }


# --- Card spending: a unit where someone missed loses all its rewards ------------------------------------------


CARD_STAFF = {"E11": ("D1", 30), "E12": ("D1", 29), "E21": ("D2", 30), "E22": ("D2", 45), "E31": ("S1", 31)}


def test_when_a_missed_card_target_loses_every_reward_one_employee_under_30_takes_the_unit_off_the_prize_boards(db):
    """card_spending_miss_loses: all_rewards, configured as the template's note says: the units'
    employees as staff participants, a staff metric of their card payments, and a staff_below gate
    (minimum 30) on the prize rankings. The data set gains five employees (a small extension: B's
    data set has no unit employees): E11 (D1) 30, E12 (D1) 29, E21 (D2) 30, E22 (D2) 45, E31 (S1)
    31 card payments in Q1.

    E12 is one short, so D1 leaves the gate's rankings: the institution prize becomes D7 1, D2 2,
    D5 3 and the corporate single-plan board D8 1, D2 2, D7 3, D5 4. D1 keeps its 120 points and
    its place on the contest board (not a gated ranking); D2 and S1 are not vetoed."""

    def all_rewards_gate(doc):
        doc["participants"] += [{"staff": code} for code in CARD_STAFF]
        doc["metrics"].append({
            "code": "card_txn", "name": "刷卡消费笔数", "measure": "count", "display_unit": "笔", "kind": "count",
            "figure": "flow_sum", "position": 13, "components": [{"indicator": "CARD_SPEND_TXN"}],
        })
        doc["gates"] = [{
            "code": "card_spending", "name": "刷卡消费未完成", "kind": "staff_below", "metric": "card_txn",
            "minimum": 30, "rankings": list(GATED_RANKINGS),
        }]
        choose(doc, card_spending_miss_loses="all_rewards")

    campaign, result_set = build_rulebook_b(
        all_rewards_gate,
        more_staff=[(code, unit) for code, (unit, _count) in CARD_STAFF.items()],
        more_figures=[
            ("CARD_SPEND_TXN", SubjectKind.STAFF, code, datetime.date(2027, 3, 15), Decimal(count))
            for code, (_unit, count) in CARD_STAFF.items()
        ],
    )
    vetoed = {code for code, flag in unit_results(result_set, "vetoed").items() if flag}
    assert vetoed == {"D1"}
    assert group_board(campaign, result_set, "prize_top6", INSTITUTION) == {"D7": 1, "D2": 2, "D5": 3}
    assert board(campaign, result_set, "single_corporate") == {"D8": 1, "D2": 2, "D7": 3, "D5": 4}
    assert group_board(campaign, result_set, "savings_top6", SAVINGS_OFFICE) == {"S1": 1, "S2": 2}
    assert board(campaign, result_set, "board")["D1"] == 1
    assert q(unit_results(result_set, "total_points")["D1"]) == q(120)
    assert not set(board(campaign, result_set, "board")) & (set(CARD_STAFF) | set(HEAD_OFFICE_STAFF))
