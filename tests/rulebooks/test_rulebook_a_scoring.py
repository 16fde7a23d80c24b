"""Rulebook A (county credit union), scored from the built-in template on twelve branches.

Every expected figure below is worked out by hand from the table at the top; the test loads the
template, uploads targets and three months of figures through the facts write path, recomputes
31 March 2027 and compares.

Targets (every branch): deposits net increase 1,000 万元, interest income 100 万元, NPL decline
20 万元, card deposits net increase 200 万元, collection rate 97 %.
Scheme: deposits 45, interest 22, NPL 8, card 5 (completion × points, capped at 100 %), collection
20 (each month ≥ 97 % earns 20, else 0; the quarter is the average of the months).

branch  region  deposits 万  interest 万  NPL decline 万  card 万  collection Jan/Feb/Mar
B01     R1      1200 → 45    110 → 22     20 → 8          200 → 5   99/99/99 → 20
B02     R1      1000 → 45    100 → 22     25 → 8          250 → 5   96/98/99 → 13.3333
B03     R1       900 → 40.5   80 → 17.6   10 → 4          100 → 2.5 98/98/98 → 20
B04     R1      1000 → 45    100 → 22     20 → 8          200 → 5   98/98/90 → 13.3333
B05     R1       500 → 22.5   50 → 11      0 → 0           50 → 1.25 90/90/90 → 0
B06     R1      -100 → 0      90 → 19.8   20 → 8          200 → 5   99/99/99 → 20
B07     R2      1000 → 45    100 → 22     30 → 8          190 → 4.75 97/97/97 → 20
B08     R2      1000 → 45    100 → 22     20 → 8          200 → 5   96.9/98/98 → 13.3333
B09     R2       700 → 31.5   60 → 13.2   -5 → 0          100 → 2.5 98/98/98 → 20
B10     R2       600 → 27    100 → 22     15 → 6          200 → 5   98/98/98 → 20
B11     R2      1100 → 45    120 → 22     20 → 8          300 → 5   99/96/96 → 6.6667
B12     R2         0 → 0      40 → 8.8     5 → 2            0 → 0   98/98/98 → 20
"""

import datetime
from decimal import Decimal

import pytest

from branches.facts import FactSource, merge_facts
from branches.models import Indicator, SubjectKind, Unit, UnitKind
from campaigns.campaign_file import import_campaign, load_template
from scoring import engine, services
from scoring.models import MetricResult, ParticipantResult, RankEntry, Ranking, RuleScore

WAN = Decimal(10_000)
BASE_DAY = datetime.date(2026, 12, 31)
QUARTER_END = datetime.date(2027, 3, 31)
MONTHS = [datetime.date(2027, 1, 15), datetime.date(2027, 2, 15), datetime.date(2027, 3, 15)]

# code: (region, deposits, interest, npl decline, card, collection rates per month in %)
BRANCHES = {
    "B01": ("R1", 1200, 110, 20, 200, (99, 99, 99)),
    "B02": ("R1", 1000, 100, 25, 250, (96, 98, 99)),
    "B03": ("R1", 900, 80, 10, 100, (98, 98, 98)),
    "B04": ("R1", 1000, 100, 20, 200, (98, 98, 90)),
    "B05": ("R1", 500, 50, 0, 50, (90, 90, 90)),
    "B06": ("R1", -100, 90, 20, 200, (99, 99, 99)),
    "B07": ("R2", 1000, 100, 30, 190, (97, 97, 97)),
    "B08": ("R2", 1000, 100, 20, 200, (Decimal("96.9"), 98, 98)),
    "B09": ("R2", 700, 60, -5, 100, (98, 98, 98)),
    "B10": ("R2", 600, 100, 15, 200, (98, 98, 98)),
    "B11": ("R2", 1100, 120, 20, 300, (99, 96, 96)),
    "B12": ("R2", 0, 40, 5, 0, (98, 98, 98)),
}

# New loans 万元 (the 70 % ceiling, a warning only): B01 lends 75 % of its 1,200 new deposits, B06
# lends 50 while its deposits fell by 100; B12 has neither; the rest lend half their new deposits.
NEW_LOANS = {"B01": 900, "B06": 50, "B12": 0}

EXPECTED_TOTALS = {
    "B01": "100", "B02": "93.3333", "B03": "84.6", "B04": "93.3333", "B05": "34.75", "B06": "52.8",
    "B07": "99.75", "B08": "93.3333", "B09": "67.2", "B10": "80", "B11": "86.6667", "B12": "30.8",
}


def d(value) -> Decimal:
    return Decimal(str(value))


def figures() -> list[tuple[str, str, datetime.date, Decimal]]:
    rows = []
    for code, (_region, deposits, interest, npl, card, rates) in BRANCHES.items():
        rows += [
            (code, "DEP_BAL", BASE_DAY, 50_000 * WAN),
            (code, "DEP_BAL", QUARTER_END, (50_000 + d(deposits)) * WAN),
            (code, "CARD_DEP_BAL", BASE_DAY, 3_000 * WAN),
            (code, "CARD_DEP_BAL", QUARTER_END, (3_000 + d(card)) * WAN),
            (code, "NPL_BAL", BASE_DAY, 500 * WAN),
            (code, "NPL_BAL", QUARTER_END, (500 - d(npl)) * WAN),
            (code, "LOAN_BAL", BASE_DAY, 30_000 * WAN),
            (code, "LOAN_BAL", QUARTER_END, (30_000 + d(NEW_LOANS.get(code, Decimal(deposits) / 2))) * WAN),
        ]
        # Interest arrives as a daily flow: 40 %, 30 % and 30 % of the quarter's income on the 15th.
        shares = (Decimal("0.4"), Decimal("0.3"), Decimal("0.3"))
        rows += [(code, "INTEREST_INCOME", day, d(interest) * WAN * share) for day, share in zip(MONTHS, shares, strict=True)]
        for day, rate in zip(MONTHS, rates, strict=True):
            rows += [(code, "LOAN_DUE", day, 100 * WAN), (code, "LOAN_COLLECTED", day, d(rate) * WAN)]
    return rows


def build_rulebook_a(edit=None):
    """The twelve branches, the template with their targets (``edit(doc)`` changes the loaded file
    first, as a planner edits it), the quarter's figures; B08 flagged falsified; recomputes 31 March."""
    head = Unit.objects.create(code="HO", name="县联社", kind=UnitKind.HEAD_OFFICE)
    regions = {code: Unit.objects.create(code=code, name=code, kind=UnitKind.REGION, parent=head) for code in ("R1", "R2")}
    for code, (region, *_rest) in BRANCHES.items():
        Unit.objects.create(code=code, name=f"{code}信用社", kind=UnitKind.BRANCH, parent=regions[region])
    doc = load_template("a-county-credit-union")
    doc["participants"] = [{"select": {"under": "HO", "kinds": ["branch"]}}]
    doc["targets"] = [
        {"participant": code, "metric": metric, "period": "campaign", "target": target}
        for code in BRANCHES
        for metric, target in [
            ("deposits", 1_000 * WAN), ("interest", 100 * WAN), ("npl_decline", 20 * WAN),
            ("card_deposits", 200 * WAN), ("collection_rate", "0.97"),
        ]
    ]
    if edit is not None:
        edit(doc)
    campaign = import_campaign(doc, code="A-2027")
    units = dict(Unit.objects.values_list("code", "id"))
    indicators = dict(Indicator.objects.values_list("code", "id"))
    outcome = merge_facts(
        rows=[
            (indicators[ind], SubjectKind.UNIT, units[code], day, value, n)
            for n, (code, ind, day, value) in enumerate(figures(), start=1)
        ],
        source=FactSource(kind="manual", reference="rulebook A test data"),
    )
    assert outcome.ok, outcome.errors[:3]
    services.set_flag(participant=campaign.participants.get(unit__code="B08"), code="falsified")
    result_set = engine.recompute(campaign.pk, QUARTER_END)
    return campaign, result_set


@pytest.fixture
def rulebook_a(db):
    return build_rulebook_a()


def by_code(queryset, field):
    codes = dict(Unit.objects.values_list("id", "code"))
    from campaigns.models import Participant

    unit_of = dict(Participant.objects.values_list("id", "unit_id"))
    return {codes[unit_of[row["participant_id"]]]: row[field] for row in queryset.values("participant_id", field)}


def board(campaign, result_set, code):
    ranking = Ranking.objects.get(campaign=campaign, code=code)
    entries = RankEntry.objects.filter(result_set_id=result_set.pk, ranking_id=ranking.pk)
    ranks = by_code(entries, "rank")
    return dict(sorted(ranks.items(), key=lambda item: (item[1], item[0])))


def test_total_scores_match_the_hand_computed_table(rulebook_a):
    campaign, result_set = rulebook_a
    totals = by_code(ParticipantResult.objects.filter(result_set_id=result_set.pk), "total_points")
    assert {code: value.quantize(Decimal("0.0001")) for code, value in totals.items()} == {
        code: Decimal(value).quantize(Decimal("0.0001")) for code, value in EXPECTED_TOTALS.items()
    }


def test_deposit_points_are_capped_at_45_and_a_fall_scores_zero(rulebook_a):
    campaign, result_set = rulebook_a
    rule = campaign.rules.get(code="deposits")
    points = by_code(RuleScore.objects.filter(result_set_id=result_set.pk, rule_id=rule.pk, monthly=False), "points")
    assert points["B01"] == Decimal("45")  # 120 % of target, capped
    assert points["B03"] == Decimal("40.5")  # 90 %
    assert points["B06"] == Decimal("0")  # balance fell by 100 万
    assert points["B12"] == Decimal("0")


def test_npl_decline_is_base_minus_todays_balance(rulebook_a):
    campaign, result_set = rulebook_a
    metric = campaign.metrics.get(code="npl_decline")
    actual = by_code(
        MetricResult.objects.filter(result_set_id=result_set.pk, metric_id=metric.pk, monthly=False), "actual"
    )
    assert actual["B02"] == 25 * WAN
    assert actual["B09"] == -5 * WAN  # the NPL balance rose: a negative decline, scored 0


def test_collection_rate_below_97_percent_scores_zero_for_that_month(rulebook_a):
    campaign, result_set = rulebook_a
    rule = campaign.rules.get(code="collection")
    january = by_code(
        RuleScore.objects.filter(result_set_id=result_set.pk, rule_id=rule.pk, monthly=True, period_start=datetime.date(2027, 1, 1)),
        "points",
    )
    assert january["B02"] == 0  # 96 %
    assert january["B08"] == 0  # 96.9 %
    assert january["B07"] == 20  # exactly 97 % reaches the bar
    quarter = by_code(RuleScore.objects.filter(result_set_id=result_set.pk, rule_id=rule.pk, monthly=False), "points")
    assert quarter["B11"].quantize(Decimal("0.0001")) == Decimal("6.6667")  # one month of three


def test_overall_ranking_uses_competition_ranks_for_the_three_way_tie(rulebook_a):
    campaign, result_set = rulebook_a
    assert board(campaign, result_set, "overall") == {
        "B01": 1, "B07": 2, "B02": 3, "B04": 3, "B08": 3, "B11": 6,
        "B03": 7, "B10": 8, "B09": 9, "B06": 10, "B05": 11, "B12": 12,
    }


def test_the_bottom_three_of_the_branches_that_missed_a_target_are_named(rulebook_a):
    campaign, result_set = rulebook_a
    # B01, B02, B08 and B11 met every target: they are not on the criticism board at all.
    assert set(board(campaign, result_set, "criticism")) == {"B03", "B04", "B05", "B06", "B07", "B09", "B10", "B12"}
    ranking = Ranking.objects.get(campaign=campaign, code="criticism")
    bottom = by_code(RankEntry.objects.filter(result_set_id=result_set.pk, ranking_id=ranking.pk, in_bottom=True), "rank")
    assert bottom == {"B06": 6, "B05": 7, "B12": 8}


def test_control_figures_warn_without_changing_scores_or_ranks(rulebook_a):
    from scoring.selectors import leaderboard, participant_scores

    campaign, result_set = rulebook_a
    rows = {row.code: row.warnings for row in leaderboard(campaign.pk, QUARTER_END, "overall")}
    # new loans above 70 % of new deposits: B01 (75 %), B06 (loans up while deposits fell)
    # card deposits below 20 % of the deposit increase: B01 16.7 %, B03 11.1 %, B05 10 %, B07 19 %, B09 14.3 %
    assert {code for code, warned in rows.items() if "新增贷款超过新增存款的70%" in warned} == {"B01", "B06"}
    assert {code for code, warned in rows.items() if "卡存资金净增不足存款净增的20%" in warned} == {"B01", "B03", "B05", "B07", "B09"}
    b01 = campaign.participants.get(unit__code="B01")
    scores = participant_scores(campaign.pk, QUARTER_END, b01.pk)
    assert (scores.warnings, scores.vetoed_by, scores.total_points) == (["card_share", "loan_ceiling"], [], Decimal("100"))
    # a warning takes nobody out of a ranking: B01 still leads the prize board
    assert board(campaign, result_set, "prize_top5")["B01"] == 1


def test_region_rankings_are_separate(rulebook_a):
    campaign, result_set = rulebook_a
    assert board(campaign, result_set, "by_region") == {
        "B01": 1, "B07": 1, "B02": 2, "B04": 2, "B08": 2, "B11": 3,
        "B03": 4, "B10": 4, "B06": 5, "B09": 5, "B05": 6, "B12": 6,
    }


def test_prize_ranking_holds_only_branches_that_met_every_target_and_are_not_vetoed(rulebook_a):
    campaign, result_set = rulebook_a
    met_all = by_code(ParticipantResult.objects.filter(result_set_id=result_set.pk, met_all_targets=True), "total_points")
    # B11's quarter collection rate is exactly 97 % though two months scored 0; B07 missed card deposits.
    assert set(met_all) == {"B01", "B02", "B08", "B11"}
    # B08 is flagged for falsified figures (一票否决) and leaves the prize ranking.
    assert board(campaign, result_set, "prize_top5") == {"B01": 1, "B02": 2, "B11": 3}


def test_single_metric_prize_ranks_completion_among_those_who_met_the_target(rulebook_a):
    campaign, result_set = rulebook_a
    ranking = Ranking.objects.get(campaign=campaign, code="single_deposits")
    winners = by_code(RankEntry.objects.filter(result_set_id=result_set.pk, ranking_id=ranking.pk, in_top=True), "rank")
    # 120 %, 110 %, then B02/B04/B07 tied at 100 % all share third place; B08 vetoed.
    assert winners == {"B01": 1, "B11": 2, "B02": 3, "B04": 3, "B07": 3}


def test_gap_to_the_next_place_in_points(rulebook_a):
    campaign, result_set = rulebook_a
    ranking = Ranking.objects.get(campaign=campaign, code="overall")
    gaps = by_code(RankEntry.objects.filter(result_set_id=result_set.pk, ranking_id=ranking.pk), "gap_points")
    assert gaps["B01"] is None
    assert gaps["B07"] == Decimal("0.25")
    # 93.3333… − 86.6666… = 20/3; stored points carry four decimals, so within 0.0001 of it.
    assert abs(gaps["B11"] - Decimal(20) / 3) <= Decimal("0.0001")


def test_interest_at_the_end_of_february_is_provisional_on_the_income_so_far_and_final_at_quarter_end(rulebook_a):
    """逐月考核，季末通算: each month-end board scores interest on the cumulative income so far against
    the quarter's target; the quarter end's figure is final. The income arrives 40 % / 30 % / 30 % on
    15 January / February / March, so on 28 February a branch has 70 % of its quarter's income:
    22 × 0.7 × income ÷ 100. B01 (110) 77 → 16.94, B11 (120) 84 → 18.48, B03 (80) 56 → 12.32, B05
    (50) 35 → 7.7, B06 (90) 63 → 13.86, B09 (60) 42 → 9.24, B12 (40) 28 → 6.16, the five at 100
    70 → 15.4. On 31 March B01 and B11 are over target and capped at 22, B03 17.6."""
    campaign, quarter = rulebook_a
    february = engine.recompute(campaign.pk, datetime.date(2027, 2, 28))
    rule = campaign.rules.get(code="interest")

    def interest_points(result_set):
        rows = RuleScore.objects.filter(result_set_id=result_set.pk, rule_id=rule.pk, monthly=False)
        return {code: value.quantize(Decimal("0.0001")) for code, value in by_code(rows, "points").items()}

    assert interest_points(february) == {
        code: Decimal(value).quantize(Decimal("0.0001"))
        for code, value in {
            "B01": "16.94", "B02": "15.4", "B03": "12.32", "B04": "15.4", "B05": "7.7", "B06": "13.86",
            "B07": "15.4", "B08": "15.4", "B09": "9.24", "B10": "15.4", "B11": "18.48", "B12": "6.16",
        }.items()
    }
    final = interest_points(quarter)
    assert (final["B01"], final["B11"], final["B03"]) == (Decimal("22.0000"), Decimal("22.0000"), Decimal("17.6000"))


def test_the_template_records_the_default_of_every_open_point(rulebook_a):
    campaign, _result_set = rulebook_a
    assert campaign.options == {
        "completion_cap": "1",
        "single_metric_prize_needs_target": True,
        "single_metric_prize_basis": "completion",
        "collection_quarter_from_months": "average",
        "deposit_piece_rate_mode": "block",
        "met_all_covers_bonus": False,
    }
    # The settings behind the records are the rules' and rankings' own fields.
    assert {r.code: r.params["cap"] for r in campaign.rules.filter(kind="completion")} == dict.fromkeys(
        ("deposits", "interest", "npl", "card"), 1
    )
    assert campaign.rules.get(code="collection").monthly_combine == "average"
    singles = Ranking.objects.filter(campaign=campaign, code__startswith="single_")
    assert {r.code: (r.basis, r.required_flags) for r in singles} == {
        f"single_{metric}": ("metric_completion", [f"met:{metric_code}"])
        for metric, metric_code in (("deposits", "deposits"), ("interest", "interest"), ("npl", "npl_decline"), ("card", "card_deposits"))
    }
