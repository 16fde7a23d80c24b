"""Rulebook D's open points on ranking, each switched to its alternative on the scoring test's data.

Each test loads the template, changes one ranking in the loaded file the way a planner would (and
the record in ``campaign.options``), builds the data set of ``test_rulebook_d_scoring`` (twelve
employees, six sub-branches in three pairs) and compares with the figures worked out by hand
below. D's other open points (the pay table's silent band, steps and top band, the share paid
beside rank 1, per-10,000 rates, clawback, tellers, completion bonuses, a draw) are the rewards
section's; probation is a flag only (a rate is not offered) and the daily average over calendar
days, unrounded, has no alternative in the engine.

January's daily averages (yuan): D01 2,500,000, D05 2,500,000, D07 1,250,000, H01 1,200,000, D09
1,000,000, H02 900,000, D06 800,000, D10 625,000, D04 500,000, D03 385,000, D02 320,000 (D08 none).

Head-to-head, increase over 31 December and completion of the plan:

pair   sub-branch  increase     plan        completion
PAIR1  S1          2,000,000    2,500,000   80 %
PAIR1  S2          1,500,000    1,500,000   100 %
PAIR2  S3            900,000    1,000,000   90 %
PAIR2  S4          1,800,000    2,000,000   90 %
PAIR3  S5          1,200,000    1,000,000   120 %
PAIR3  S6           −100,000    1,000,000   −10 %
"""

from tests.rulebooks.template_edits import choose, ranking
from tests.rulebooks.test_rulebook_d_scoring import JAN_END, QUARTER_END, board, build_rulebook_d, winners


def test_with_ordinal_ties_only_the_earlier_listed_of_two_equal_leaders_is_rank_one(db):
    """rank1_ties: ordinal (tie_break ordinal on month_rank1). D01 and D05 both average 2,500,000
    in January; D01 is listed first, so D01 is rank 1 (the streak's month) and D05 rank 2; the rest
    keep their order: D07 3, H01 4, D09 5, H02 6, D06 7, D10 8, D04 9, D03 10, D02 11."""

    def ordinal(doc):
        ranking(doc, "month_rank1")["tie_break"] = "ordinal"
        choose(doc, rank1_ties="ordinal")

    campaign, boards = build_rulebook_d(ordinal)
    assert board(campaign, boards[JAN_END], "month_rank1") == {
        "D01": 1, "D05": 2, "D07": 3, "H01": 4, "D09": 5, "H02": 6,
        "D06": 7, "D10": 8, "D04": 9, "D03": 10, "D02": 11,
    }
    assert winners(campaign, boards[JAN_END], "month_rank1") == {"D01"}


def test_head_to_head_on_the_increase_lets_the_larger_sub_branch_win_its_pair(db):
    """head_to_head_basis: increase (basis metric_figure on head_to_head). PAIR1: S1's 2,000,000
    beats S2's 1,500,000 although S1 reached only 80 % of its plan (on completion S2 wins); PAIR2:
    the 90 % draw is broken, S4 1,800,000 beats S3 900,000; PAIR3: S5 1,200,000 beats S6's fall."""

    def on_the_increase(doc):
        ranking(doc, "head_to_head")["basis"] = "metric_figure"
        choose(doc, head_to_head_basis="increase")

    campaign, boards = build_rulebook_d(on_the_increase)
    assert board(campaign, boards[QUARTER_END], "head_to_head") == {"S1": 1, "S4": 1, "S5": 1, "S2": 2, "S3": 2, "S6": 2}
