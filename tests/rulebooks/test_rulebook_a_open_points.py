"""Rulebook A's open points, each switched to its alternative on the scoring test's twelve branches.

Each test loads the template, changes one setting in the loaded file the way a planner would (a
rule's parameter, a ranking's field, and its record in ``campaign.options``), builds the data set
of ``test_rulebook_a_scoring`` (same targets, figures and falsified flag on B08), recomputes 31
March 2027 and compares with the figures worked out by hand below. Points in the docstrings; the
rest of the scheme is unchanged (deposits 45, interest 22, NPL 8, card 5, collection 20).

The collection rate's months (≥ 97 % passes), from the data set:

branch  Jan / Feb / Mar        branch  Jan / Feb / Mar
B01     99 / 99 / 99           B07     97 / 97 / 97
B02     96 / 98 / 99           B08     96.9 / 98 / 98
B03     98 / 98 / 98           B09     98 / 98 / 98
B04     98 / 98 / 90           B10     98 / 98 / 98
B05     90 / 90 / 90           B11     99 / 96 / 96
B06     99 / 99 / 99           B12     98 / 98 / 98

Two tests exercise rule kinds no rulebook calls for (bands, a threshold's else_points) on this
rule, the one pass/fail rule of the four templates; they say so.
"""

from decimal import Decimal

from scoring.models import ParticipantResult, RankEntry, Ranking, RuleScore
from tests.rulebooks.template_edits import choose, ranking, rule
from tests.rulebooks.test_rulebook_a_scoring import WAN, board, build_rulebook_a, by_code


def q(value) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.0001"))


def rule_points(campaign, result_set, code) -> dict[str, Decimal]:
    rule_id = campaign.rules.get(code=code).pk
    rows = RuleScore.objects.filter(result_set_id=result_set.pk, rule_id=rule_id, monthly=False)
    return {branch: q(points) for branch, points in by_code(rows, "points").items()}


def totals(result_set) -> dict[str, Decimal]:
    return {branch: q(v) for branch, v in by_code(ParticipantResult.objects.filter(result_set_id=result_set.pk), "total_points").items()}


def winners(campaign, result_set, code) -> set[str]:
    ranking_id = Ranking.objects.get(campaign=campaign, code=code).pk
    return set(by_code(RankEntry.objects.filter(result_set_id=result_set.pk, ranking_id=ranking_id, in_top=True), "rank"))


def expected(table: dict) -> dict[str, Decimal]:
    return {code: q(value) for code, value in table.items()}


# --- Cap on completion × points -------------------------------------------------------------------


def test_a_deposit_cap_of_1_2_lets_120_percent_of_target_earn_54_of_45_points(db):
    """cap 1.2 on the deposits rule only: 45 × min(completion, 1.2). B01 1,200 of 1,000 → 54, B11
    1,100 → 49.5; the rest are at or below 100 % and keep their points. The cap is per metric:
    B11's interest (120 of 100) still earns 22. Totals: B01 100 + 9 = 109, B11 86.6667 + 4.5 =
    91.1667."""

    def cap_deposits(doc):
        rule(doc, "deposits")["params"]["cap"] = "1.2"
        choose(doc, completion_cap="per rule: deposits 1.2, the others 1")

    campaign, result_set = build_rulebook_a(cap_deposits)
    assert rule_points(campaign, result_set, "deposits") == expected({
        "B01": 54, "B02": 45, "B03": "40.5", "B04": 45, "B05": "22.5", "B06": 0,
        "B07": 45, "B08": 45, "B09": "31.5", "B10": 27, "B11": "49.5", "B12": 0,
    })
    assert rule_points(campaign, result_set, "interest")["B11"] == q(22)
    assert (totals(result_set)["B01"], totals(result_set)["B11"]) == (q(109), q("91.1667"))


# --- Single-metric prizes -------------------------------------------------------------------------------


def test_single_metric_board_without_the_target_requirement_ranks_every_branch(db):
    """single_deposits without required flag met:deposits: every branch is ranked by deposit
    completion (B08 still out, falsified): 1.2 B01, 1.1 B11, 1.0 B02 B04 B07, 0.9 B03, 0.7 B09,
    0.6 B10, 0.5 B05, 0 B12, −0.1 B06. The top three are the same: the three best all met it."""

    def rank_every_branch(doc):
        ranking(doc, "single_deposits")["required_flags"] = []
        choose(doc, single_metric_prize_needs_target=False)

    campaign, result_set = build_rulebook_a(rank_every_branch)
    assert board(campaign, result_set, "single_deposits") == {
        "B01": 1, "B11": 2, "B02": 3, "B04": 3, "B07": 3, "B03": 6,
        "B09": 7, "B10": 8, "B05": 9, "B12": 10, "B06": 11,
    }
    assert winners(campaign, result_set, "single_deposits") == {"B01", "B11", "B02", "B04", "B07"}


def test_single_metric_prize_on_the_figure_passes_over_a_small_branch_that_beat_its_target(db):
    """single_deposits on basis metric_figure (the absolute increase). Every branch has the same
    target in the data set, so both bases would order alike: here B10's deposit target is 500 万
    instead of 1,000 万 (a small branch), so its 600 万 is 120 % of target.

    By the figure (among those who met the target, B08 vetoed): B01 1,200 1, B11 1,100 2, B02 B04
    B07 1,000 3, B10 600 6 — B10 wins nothing. (By completion, the default, B01 and B10 would
    share first at 120 %, B11 third, and B02 B04 B07 would miss the top three.)"""

    def rank_by_figure(doc):
        ranking(doc, "single_deposits")["basis"] = "metric_figure"
        choose(doc, single_metric_prize_basis="figure")
        for target in doc["targets"]:
            if (target["participant"], target["metric"]) == ("B10", "deposits"):
                target["target"] = 500 * WAN

    campaign, result_set = build_rulebook_a(rank_by_figure)
    assert board(campaign, result_set, "single_deposits") == {"B01": 1, "B11": 2, "B02": 3, "B04": 3, "B07": 3, "B10": 6}
    assert winners(campaign, result_set, "single_deposits") == {"B01", "B11", "B02", "B04", "B07"}


# --- The collection rate's quarter from its months ------------------------------------------------------------


def test_collection_quarter_on_the_last_month_scores_marchs_result_alone(db):
    """monthly_combine last: the quarter's 20 points are March's. B02 and B08 (missed January only)
    get 20, B04 and B11 (missed March) 0, B05 0, everyone else 20. Totals: B02 93.3333 − 13.3333 +
    20 = 100, B08 100, B04 93.3333 − 13.3333 = 80, B11 86.6667 − 6.6667 = 80."""

    def last_month(doc):
        rule(doc, "collection")["monthly_combine"] = "last"
        choose(doc, collection_quarter_from_months="last")

    campaign, result_set = build_rulebook_a(last_month)
    assert rule_points(campaign, result_set, "collection") == expected({
        "B01": 20, "B02": 20, "B03": 20, "B04": 0, "B05": 0, "B06": 20,
        "B07": 20, "B08": 20, "B09": 20, "B10": 20, "B11": 0, "B12": 20,
    })
    assert {code: totals(result_set)[code] for code in ("B02", "B04", "B08", "B11")} == expected(
        {"B02": 100, "B04": 80, "B08": 100, "B11": 80}
    )


def test_collection_quarter_all_pass_scores_zero_when_any_month_missed(db):
    """monthly_combine all_pass: 20 only when all three months passed. B02, B04, B08 and B11 each
    missed one or two months: 0 (not the 13.3333 or 6.6667 of the average); B05 0; the rest 20."""

    def all_months(doc):
        rule(doc, "collection")["monthly_combine"] = "all_pass"
        choose(doc, collection_quarter_from_months="all_pass")

    campaign, result_set = build_rulebook_a(all_months)
    assert rule_points(campaign, result_set, "collection") == expected({
        "B01": 20, "B02": 0, "B03": 20, "B04": 0, "B05": 0, "B06": 20,
        "B07": 20, "B08": 0, "B09": 20, "B10": 20, "B11": 0, "B12": 20,
    })


# --- Rule kinds no rulebook asks for, on the collection rule ----------------------------------------------------


def test_collection_in_bands_gives_half_points_to_a_month_between_95_and_97_percent(db):
    """Not a rulebook reading: no rulebook scores points in bands, so the kind is exercised here on
    the collection rule as a planner could soften it: kind bands, ≥ 95 % → 10, ≥ 97 % → 20, else 0
    (still 20 points, so the scheme keeps its 100). Months: B02 96 → 10, 20, 20 = 16.6667; B08
    96.9 → 10, 20, 20 = 16.6667; B11 20, 96 → 10, 10 = 13.3333; B04 20, 20, 90 → 0 = 13.3333; B05
    90 → 0 every month; the rest 20."""

    def in_bands(doc):
        collection = rule(doc, "collection")
        collection["kind"] = "bands"
        collection["params"] = {"on": "figure", "bands": [{"from": "0.95", "points": 10}, {"from": "0.97", "points": 20}]}

    campaign, result_set = build_rulebook_a(in_bands)
    assert rule_points(campaign, result_set, "collection") == expected({
        "B01": 20, "B02": "16.6667", "B03": 20, "B04": "13.3333", "B05": 0, "B06": 20,
        "B07": 20, "B08": "16.6667", "B09": 20, "B10": 20, "B11": "13.3333", "B12": 20,
    })


def test_collection_else_points_give_every_month_below_97_percent_ten_points(db):
    """Not a rulebook reading (A says "anything less earns 0"): the threshold's else_points, 0 in
    the template, set to 10 exercises the parameter. Every month below the bar earns 10, however
    far below: B05's 90 % months 10 each = 10; B04 20, 20, 10 = 16.6667; B02 and B08 10, 20, 20 =
    16.6667; B11 20, 10, 10 = 13.3333; the rest 20."""

    def ten_below_the_bar(doc):
        rule(doc, "collection")["params"]["else_points"] = 10

    campaign, result_set = build_rulebook_a(ten_below_the_bar)
    assert rule_points(campaign, result_set, "collection") == expected({
        "B01": 20, "B02": "16.6667", "B03": 20, "B04": "16.6667", "B05": 10, "B06": 20,
        "B07": 20, "B08": "16.6667", "B09": 20, "B10": 20, "B11": "13.3333", "B12": 20,
    })


# --- Ties ---------------------------------------------------------------------------------------------------


def test_dense_ties_on_the_overall_board_number_the_branch_after_the_tie_fourth(db):
    """tie_break dense on `overall` (any ranking's setting; the template keeps competition, 1, 2,
    2, 4): B02, B04, B08 tie at 93.3333 for third, and B11 (86.6667) is fourth, not sixth; every
    later branch moves up by two."""

    def dense(doc):
        ranking(doc, "overall")["tie_break"] = "dense"

    campaign, result_set = build_rulebook_a(dense)
    assert board(campaign, result_set, "overall") == {
        "B01": 1, "B07": 2, "B02": 3, "B04": 3, "B08": 3, "B11": 4,
        "B03": 5, "B10": 6, "B09": 7, "B06": 8, "B05": 9, "B12": 10,
    }
