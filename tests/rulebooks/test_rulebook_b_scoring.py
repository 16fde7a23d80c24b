"""Rulebook B (district union deposit contest), scored from the built-in template on twelve units.

Eight directly-managed institutions D1–D8 (category 直管机构) and four savings offices S1–S4
(category 储蓄所). The test loads the template, adds the participants and their plans, uploads a
quarter of daily balances and flows through the facts write path, recomputes 31 March 2027 (and
14 February for the mid-quarter daily average) and compares with the figures below, worked out by
hand. All amounts in 万元 (the facts are in yuan).

Daily balances: the start-of-year base is the balance on 31 Dec 2026 (corporate 20,000, savings
10,000 at institutions and 3,000 at savings offices). From 1 Jan to 14 Feb (45 days) the balance is
base + A, from 15 Feb to 31 Mar (45 days) base + B. So the balance increase is B and the
daily-average increase (A + B) ÷ 2; the table gives avg and bal, the test derives A = 2·avg − bal.

Scheme: corporate 60 = avg 24 + bal 18 + growth 18; savings 30 = avg 12 + bal 9 + growth 9;
international 10; bonus +5 per item whose plan is met (all or nothing).
avg / bal parts: points × own ÷ best of the own category, a negative increase scores 0.
growth part: points × min(1, bal ÷ planned bal) (rate ÷ planned rate with the common base).
international: 10 × own completion ÷ best completion of the category (plan 1,000; D5 300).

Plans. Institutions: corporate avg 800 / bal 1,000, savings avg 400 / bal 500 (D5: 500 / 600,
250 / 450); savings offices: savings avg 200 / bal 250 (no corporate, no international plan).
Best in category: corporate avg 1,000 (D1, D8), bal 1,200 (D1, D2); savings avg 500 / bal 600
(institutions), 250 / 300 (savings offices); international completion 1.2 (D1, D3, D5).

unit  corp avg/bal → points              sav avg/bal → points                intl → pts    bonus  total
D1    1000/1200 → 24 + 18   + 18   = 60    500/600 → 12   + 9    + 9    = 30     1200 → 10    20  120
D2     800/1200 → 19.2 + 18 + 18   = 55.2  400/500 → 9.6  + 7.5  + 9    = 26.1   1080 → 9     10  100.3
D3     900/900  → 21.6 + 13.5 + 16.2 = 51.3 450/540 → 10.8 + 8.1 + 9    = 27.9   1200 → 10     0  89.2
D4     600/1000 → 14.4 + 15 + 18   = 47.4  300/300 → 7.2  + 4.5  + 5.4  = 17.1    600 → 5     20  89.5
D5     500/600  → 12 + 9 + 18      = 39    250/450 → 6    + 6.75 + 9    = 21.75   360 → 10     5  75.75
D6    -200/-300 → 0 + 0 + 0        = 0     100/150 → 2.4  + 2.25 + 2.7  = 7.35    360 → 3      0  10.35
D7     800/1000 → 19.2 + 15 + 18   = 52.2  400/600 → 9.6  + 9    + 9    = 27.6   1080 → 9     15  103.8
D8    1000/1080 → 24 + 16.2 + 18   = 58.2  450/480 → 10.8 + 7.2  + 8.64 = 26.64  1020 → 8.5    5  98.34
S1        —     → 0                        250/300 → 12   + 9    + 9    = 30        —           10  40
S2        —     → 0                        200/250 → 9.6  + 7.5  + 9    = 26.1      —            0  26.1
S3        —     → 0                        225/240 → 10.8 + 7.2  + 8.64 = 26.64     —            5  31.64
S4        —     → 0                        160/200 → 7.68 + 6    + 7.2  = 20.88     —            0  20.88

Bonus plans: personal online banking 100, corporate online banking 20, mobile banking 200, phone
POS 10 (savings offices: personal 50, mobile 100). A met item has actual = plan, a missed one 90 %.

Met every plan (scored metrics; bonus items not counted): D1, D2, D5, D7, S1, S2.
Whole-deposit completion (avg, bal) for the 80 % list: D4 0.75 (out), S4 0.8 / 0.8 (in).

Head-office staff H1, H2, H3 take part in the same campaign (rule 6): canvassed deposits base 500 on
31 Dec, the same two-halves pattern; plans avg 100 / bal 100. They score no points.
staff  avg/bal   completion avg/bal   met both   ≥ 80 % of both
H1     100/120   1.0 / 1.2            yes        yes
H2      85/90    0.85 / 0.9           no         yes
H3      50/60    0.5 / 0.6            no         no
"""

import datetime
from decimal import Decimal

import pytest

from branches import services as org
from branches.facts import FactSource, merge_facts
from branches.models import Indicator, Staff, SubjectKind, Unit, UnitKind
from campaigns.campaign_file import import_campaign, load_template
from campaigns.models import Participant
from scoring import engine
from scoring.models import MetricResult, ParticipantResult, RankEntry, Ranking, RuleScore

WAN = Decimal(10_000)
BASE_DAY = datetime.date(2026, 12, 31)
QUARTER_START = datetime.date(2027, 1, 1)
SECOND_HALF = datetime.date(2027, 2, 15)  # 1 Jan – 14 Feb and 15 Feb – 31 Mar are 45 days each
MID_QUARTER = datetime.date(2027, 2, 14)
QUARTER_END = datetime.date(2027, 3, 31)
INSTITUTION, SAVINGS_OFFICE = "直管机构", "储蓄所"
BONUS_ITEMS = ("ebank_personal", "ebank_corp", "mobile_bank", "phone_pos")
BONUS_INDICATORS = {
    "ebank_personal": "EBANK_PERSONAL_NEW", "ebank_corp": "EBANK_CORP_NEW",
    "mobile_bank": "MOBILE_BANK_NEW", "phone_pos": "PHONE_POS_NEW",
}

# code: (corp avg, corp bal, savings avg, savings bal, international volume, bonus items met)
UNITS = {
    "D1": (1000, 1200, 500, 600, 1200, BONUS_ITEMS),
    "D2": (800, 1200, 400, 500, 1080, ("ebank_personal", "mobile_bank")),
    "D3": (900, 900, 450, 540, 1200, ()),
    "D4": (600, 1000, 300, 300, 600, BONUS_ITEMS),
    "D5": (500, 600, 250, 450, 360, ("ebank_personal",)),
    "D6": (-200, -300, 100, 150, 360, ()),
    "D7": (800, 1000, 400, 600, 1080, ("ebank_personal", "ebank_corp", "mobile_bank")),
    "D8": (1000, 1080, 450, 480, 1020, ("phone_pos",)),
    "S1": (None, None, 250, 300, None, ("ebank_personal", "mobile_bank")),
    "S2": (None, None, 200, 250, None, ()),
    "S3": (None, None, 225, 240, None, ("ebank_personal",)),
    "S4": (None, None, 160, 200, None, ()),
}
PLANS = {  # metric: plan in 万元 (counts for the bonus items)
    "institution": {
        "corp_avg_inc": 800, "corp_bal_inc": 1000, "sav_avg_inc": 400, "sav_bal_inc": 500, "intl_volume": 1000,
        "ebank_personal": 100, "ebank_corp": 20, "mobile_bank": 200, "phone_pos": 10,
    },
    "D5": {
        "corp_avg_inc": 500, "corp_bal_inc": 600, "sav_avg_inc": 250, "sav_bal_inc": 450, "intl_volume": 300,
        "ebank_personal": 100, "ebank_corp": 20, "mobile_bank": 200, "phone_pos": 10,
    },
    "savings_office": {"sav_avg_inc": 200, "sav_bal_inc": 250, "ebank_personal": 50, "mobile_bank": 100},
}
COUNT_METRICS = set(BONUS_ITEMS)
# head-office staff: (canvassed avg increase, bal increase); plans 100 / 100
HEAD_OFFICE_STAFF = {"H1": (100, 120), "H2": (85, 90), "H3": (50, 60)}

EXPECTED_TOTALS = {
    "D1": "120", "D2": "100.3", "D3": "89.2", "D4": "89.5", "D5": "75.75", "D6": "10.35",
    "D7": "103.8", "D8": "98.34", "S1": "40", "S2": "26.1", "S3": "31.64", "S4": "20.88",
}


def d(value) -> Decimal:
    return Decimal(str(value))


def q(value) -> Decimal:
    return Decimal(value).quantize(Decimal("0.0001"))


def plans_of(code: str) -> dict:
    if code == "D5":
        return PLANS["D5"]
    return PLANS["institution"] if code.startswith("D") else PLANS["savings_office"]


def quarter_days():
    day = QUARTER_START
    while day <= QUARTER_END:
        yield day
        day += datetime.timedelta(days=1)


def balance_rows(code: str, indicator: str, base, avg, bal) -> list:
    """Base on 31 Dec, base + A for the first 45 days, base + B for the last 45 (A = 2·avg − B)."""
    first_half = 2 * d(avg) - d(bal)
    rows = [(code, indicator, BASE_DAY, d(base) * WAN)]
    for day in quarter_days():
        increase = first_half if day < SECOND_HALF else d(bal)
        rows.append((code, indicator, day, (d(base) + increase) * WAN))
    return rows


def figures() -> list[tuple[str, str, datetime.date, Decimal]]:
    rows = []
    for code, (corp_avg, corp_bal, sav_avg, sav_bal, intl, met) in UNITS.items():
        if corp_avg is not None:
            rows += balance_rows(code, "CORP_DEP_BAL", 20_000, corp_avg, corp_bal)
        rows += balance_rows(code, "SAV_DEP_BAL", 10_000 if code.startswith("D") else 3_000, sav_avg, sav_bal)
        if intl is not None:
            # 国际业务结算量 = remittances 50 % (January) + collections 30 % (February) + letters of credit 20 % (March).
            rows += [
                (code, "INTL_REMITTANCE", datetime.date(2027, 1, 20), d(intl) * WAN * Decimal("0.5")),
                (code, "INTL_COLLECTION", datetime.date(2027, 2, 20), d(intl) * WAN * Decimal("0.3")),
                (code, "INTL_LC", datetime.date(2027, 3, 20), d(intl) * WAN * Decimal("0.2")),
            ]
        for item in BONUS_ITEMS:
            plan = plans_of(code).get(item)
            if plan is None:
                continue
            count = d(plan) if item in met else d(plan) * Decimal("0.9")
            # Sign-ups arrive in two batches, in January and March.
            rows += [
                (code, BONUS_INDICATORS[item], datetime.date(2027, 1, 10), count // 2),
                (code, BONUS_INDICATORS[item], datetime.date(2027, 3, 10), count - count // 2),
            ]
    # POS piece rate: D1 installed 10 phone POS and 4 traditional POS; 2 were withdrawn or invalid.
    rows += [
        ("D1", "POS_NEW", datetime.date(2027, 2, 1), Decimal(4)),
        ("D1", "POS_REMOVED", datetime.date(2027, 3, 1), Decimal(2)),
    ]
    return rows


def targets() -> list[dict]:
    rows = []
    for code in UNITS:
        plans = plans_of(code)
        for metric, plan in plans.items():
            scale = 1 if metric in COUNT_METRICS else WAN
            rows.append({"participant": code, "metric": metric, "period": "campaign", "target": d(plan) * scale})
        # The whole-deposit plans (pro rata from 80 %) are the sums of the corporate and savings plans.
        rows.append({
            "participant": code, "metric": "deposits_avg_inc", "period": "campaign",
            "target": (d(plans.get("corp_avg_inc", 0)) + d(plans["sav_avg_inc"])) * WAN,
        })
        rows.append({
            "participant": code, "metric": "deposits_bal_inc", "period": "campaign",
            "target": (d(plans.get("corp_bal_inc", 0)) + d(plans["sav_bal_inc"])) * WAN,
        })
    for code in HEAD_OFFICE_STAFF:
        rows += [
            {"participant": code, "metric": metric, "period": "campaign", "target": d(100) * WAN}
            for metric in ("deposits_avg_inc", "deposits_bal_inc")
        ]
    return rows


def staff_figures() -> list:
    rows = []
    for code, (avg, bal) in HEAD_OFFICE_STAFF.items():
        rows += balance_rows(code, "STAFF_CANVASSED_BAL", 500, avg, bal)
    return rows


def build_rulebook_b(edit=None, *, more_staff=(), more_figures=()):
    """The twelve units and three head-office staff (and ``more_staff``: (employee no, unit code)
    pairs hired before the campaign), the template with their plans (``edit(doc)`` changes the
    loaded file first, as a planner edits it), the quarter's figures (and ``more_figures``:
    (indicator, subject kind, employee no or unit code, day, value) rows); recomputes 31 March."""
    head = Unit.objects.create(code="HO", name="区联社", kind=UnitKind.HEAD_OFFICE)
    region = Unit.objects.create(code="R1", name="城区", kind=UnitKind.REGION, parent=head)
    for code in UNITS:
        institution = code.startswith("D")
        Unit.objects.create(
            code=code,
            name=f"{code}{'信用社' if institution else '储蓄所'}",
            kind=UnitKind.BRANCH if institution else UnitKind.OUTLET,
            category=INSTITUTION if institution else SAVINGS_OFFICE,
            parent=region,
        )
    for code in HEAD_OFFICE_STAFF:
        org.hire_staff(employee_no=code, name=f"机关{code}", unit=head, on=datetime.date(2026, 1, 1))
    for code, unit in more_staff:
        org.hire_staff(employee_no=code, name=f"员工{code}", unit=Unit.objects.get(code=unit), on=datetime.date(2026, 1, 1))
    doc = load_template("b-district-deposit-contest")
    doc["participants"] = [
        {"select": {"under": "HO", "category": INSTITUTION}},
        {"select": {"under": "HO", "category": SAVINGS_OFFICE}},
        *({"staff": code} for code in HEAD_OFFICE_STAFF),
    ]
    doc["targets"] = targets()
    if edit is not None:
        edit(doc)
    campaign = import_campaign(doc, code="B-2027")
    units = dict(Unit.objects.values_list("code", "id"))
    staff = dict(Staff.objects.values_list("employee_no", "id"))
    indicators = dict(Indicator.objects.values_list("code", "id"))
    outcome = merge_facts(
        rows=[
            (indicators[ind], SubjectKind.UNIT, units[code], day, value, n)
            for n, (code, ind, day, value) in enumerate(figures(), start=1)
        ]
        + [
            (indicators[ind], SubjectKind.STAFF, staff[code], day, value, n)
            for n, (code, ind, day, value) in enumerate(staff_figures(), start=100_000)
        ]
        + [
            (indicators[ind], kind, (staff if kind == SubjectKind.STAFF else units)[code], day, value, n)
            for n, (ind, kind, code, day, value) in enumerate(more_figures, start=200_000)
        ],
        source=FactSource(kind="manual", reference="rulebook B test data"),
    )
    assert outcome.ok, outcome.errors[:3]
    result_set = engine.recompute(campaign.pk, QUARTER_END)
    return campaign, result_set


@pytest.fixture
def rulebook_b(db):
    return build_rulebook_b()


def by_code(queryset, field):
    """Unit code of a unit participant, employee number of a staff participant."""
    codes = {pid: unit or staff for pid, unit, staff in Participant.objects.values_list("id", "unit__code", "staff__employee_no")}
    return {codes[row["participant_id"]]: row[field] for row in queryset.values("participant_id", field)}


def rule_points(campaign, result_set, code) -> dict[str, Decimal]:
    rule = campaign.rules.get(code=code)
    rows = RuleScore.objects.filter(result_set_id=result_set.pk, rule_id=rule.pk, monthly=False)
    return {unit: q(points) for unit, points in by_code(rows, "points").items()}


def metric_results(campaign, result_set, code, field="actual") -> dict:
    metric = campaign.metrics.get(code=code)
    rows = MetricResult.objects.filter(result_set_id=result_set.pk, metric_id=metric.pk, monthly=False)
    return by_code(rows, field)


def board(campaign, result_set, code) -> dict[str, int]:
    ranking = Ranking.objects.get(campaign=campaign, code=code)
    ranks = by_code(RankEntry.objects.filter(result_set_id=result_set.pk, ranking_id=ranking.pk), "rank")
    return dict(sorted(ranks.items(), key=lambda item: (item[1], item[0])))


def group_board(campaign, result_set, code, category) -> dict[str, int]:
    """The ranks of one category's group (the part of a per-category ranking rewards pay on)."""
    members = set(Unit.objects.filter(category=category).values_list("code", flat=True))
    return {unit: rank for unit, rank in board(campaign, result_set, code).items() if unit in members}


def expected(values: dict) -> dict[str, Decimal]:
    return {code: q(d(value)) for code, value in values.items()}


def test_total_scores_match_the_hand_computed_table(rulebook_b):
    campaign, result_set = rulebook_b
    totals = by_code(ParticipantResult.objects.filter(result_set_id=result_set.pk), "total_points")
    assert {code: q(value) for code, value in totals.items() if code in UNITS} == expected(EXPECTED_TOTALS)
    assert {code: totals[code] for code in HEAD_OFFICE_STAFF} == {"H1": 0, "H2": 0, "H3": 0}


def test_each_deposit_metric_is_split_40_30_30_into_daily_average_balance_and_growth(rulebook_b):
    campaign, result_set = rulebook_b
    assert rule_points(campaign, result_set, "corp_avg")["D2"] == q(d("19.2"))
    assert rule_points(campaign, result_set, "corp_bal")["D2"] == q(d("18"))
    assert rule_points(campaign, result_set, "corp_growth")["D2"] == q(d("18"))
    assert rule_points(campaign, result_set, "corporate")["D2"] == q(d("55.2"))
    assert rule_points(campaign, result_set, "savings")["D5"] == q(d("21.75"))  # 6 + 6.75 + 9


def test_daily_average_increase_is_the_quarter_average_minus_the_start_of_year_base(rulebook_b):
    campaign, result_set = rulebook_b
    actual = metric_results(campaign, result_set, "corp_avg_inc")
    base = metric_results(campaign, result_set, "corp_avg_inc", "base")
    # D2: 45 days at base + 400, 45 days at base + 1,200: the daily average is base + 800.
    assert q(actual["D2"]) == q(800 * WAN)
    assert q(base["D2"]) == q(20_000 * WAN)
    assert q(metric_results(campaign, result_set, "corp_bal_inc")["D2"]) == q(1_200 * WAN)
    # The whole-deposit figure adds corporate and savings: 800 + 400.
    assert q(metric_results(campaign, result_set, "deposits_avg_inc")["D2"]) == q(1_200 * WAN)


def test_mid_quarter_daily_average_covers_only_the_days_so_far(rulebook_b):
    campaign, _quarter = rulebook_b
    mid = engine.recompute(campaign.pk, MID_QUARTER)
    # On 14 February every day so far stood at base + A (D2: A = 2 × 800 − 1,200 = 400).
    assert q(metric_results(campaign, mid, "corp_avg_inc")["D2"]) == q(400 * WAN)
    assert q(metric_results(campaign, mid, "corp_bal_inc")["D2"]) == q(400 * WAN)
    # The best then is D8's A = 2 × 1,000 − 1,080 = 920 (at quarter end D1 ties with it).
    points = rule_points(campaign, mid, "corp_avg")
    assert points["D8"] == q(d("24"))
    assert points["D2"] == q(Decimal(24) * 400 / 920)  # 10.4348
    assert points["D6"] == 0  # A = 2 × (−200) + 300 = −100


def test_the_best_is_taken_within_the_own_category(rulebook_b):
    campaign, result_set = rulebook_b
    points = rule_points(campaign, result_set, "sav_avg")
    # S1's 250 is the savings offices' best: full 12 points, though the institutions' best is 500.
    assert points["S1"] == q(d("12"))
    assert points["D1"] == q(d("12"))
    assert points["S4"] == q(d("7.68"))  # 12 × 160 ÷ 250
    rule = campaign.rules.get(code="sav_avg")
    best = by_code(RuleScore.objects.filter(result_set_id=result_set.pk, rule_id=rule.pk, monthly=False), "reference")
    assert q(best["S3"]) == q(250 * WAN)
    assert q(best["D3"]) == q(500 * WAN)


def test_a_tie_for_the_best_gives_both_full_points(rulebook_b):
    campaign, result_set = rulebook_b
    points = rule_points(campaign, result_set, "corp_avg")
    assert points["D1"] == points["D8"] == q(d("24"))


def test_a_negative_increase_scores_zero_not_a_negative_share(rulebook_b):
    campaign, result_set = rulebook_b
    assert q(metric_results(campaign, result_set, "corp_avg_inc")["D6"]) == q(-200 * WAN)
    assert rule_points(campaign, result_set, "corp_avg")["D6"] == 0
    assert rule_points(campaign, result_set, "corp_bal")["D6"] == 0
    assert rule_points(campaign, result_set, "corp_growth")["D6"] == 0


def test_growth_rate_part_is_completion_of_the_balance_plan_capped_at_one(rulebook_b):
    campaign, result_set = rulebook_b
    points = rule_points(campaign, result_set, "corp_growth")
    assert points["D1"] == q(d("18"))  # 1,200 of 1,000: 120 %, capped
    assert points["D3"] == q(d("16.2"))  # 900 of 1,000
    assert points["D5"] == q(d("18"))  # its own smaller plan, 600 of 600
    assert rule_points(campaign, result_set, "sav_growth")["D8"] == q(d("8.64"))  # 480 of 500


def test_savings_offices_without_a_corporate_plan_score_no_corporate_points(rulebook_b):
    campaign, result_set = rulebook_b
    corporate = rule_points(campaign, result_set, "corporate")
    assert {code: corporate[code] for code in ("S1", "S2", "S3", "S4")} == dict.fromkeys(("S1", "S2", "S3", "S4"), 0)
    assert rule_points(campaign, result_set, "intl")["S1"] == 0


def test_international_volume_adds_three_business_lines_and_scores_completion_against_the_best(rulebook_b):
    campaign, result_set = rulebook_b
    assert q(metric_results(campaign, result_set, "intl_volume")["D2"]) == q(1_080 * WAN)
    completion = metric_results(campaign, result_set, "intl_volume", "completion")
    assert q(completion["D5"]) == q(d("1.2"))  # 360 of its plan 300: the best, with D1 and D3
    points = rule_points(campaign, result_set, "intl")
    assert points["D5"] == q(d("10"))
    assert points["D2"] == q(d("9"))  # 10 × 1.08 ÷ 1.2
    assert points["D8"] == q(d("8.5"))  # 10 × 1.02 ÷ 1.2


def test_bonus_items_give_five_points_only_when_the_plan_is_met(rulebook_b):
    campaign, result_set = rulebook_b
    personal = rule_points(campaign, result_set, "bonus_ebank_personal")
    assert personal["D2"] == q(d("5"))
    assert personal["D8"] == 0  # 90 of 100: no part of the 5 points
    bonus = by_code(ParticipantResult.objects.filter(result_set_id=result_set.pk), "bonus_points")
    base = by_code(ParticipantResult.objects.filter(result_set_id=result_set.pk), "base_points")
    assert q(bonus["D1"]) == q(d("20"))
    assert q(base["D1"]) == q(d("100"))
    assert q(bonus["D7"]) == q(d("15"))


def test_met_all_plans_covers_the_scored_metrics_not_the_bonus_items(rulebook_b):
    campaign, result_set = rulebook_b
    met = by_code(ParticipantResult.objects.filter(result_set_id=result_set.pk, met_all_targets=True), "total_points")
    # D5 met every scored plan but three of its four bonus items; D8 missed its savings balance.
    # (The head-office staff have no scored plan, so the flag holds for them trivially; every
    # ranking that reads it is limited to units.)
    assert set(met) - set(HEAD_OFFICE_STAFF) == {"D1", "D2", "D5", "D7", "S1", "S2"}


def test_the_board_ranks_each_category_on_its_own(rulebook_b):
    campaign, result_set = rulebook_b
    assert board(campaign, result_set, "board") == {
        "D1": 1, "S1": 1, "D7": 2, "S3": 2, "D2": 3, "S2": 3, "D8": 4, "S4": 4,
        "D4": 5, "D3": 6, "D5": 7, "D6": 8,
    }


def test_institution_prize_ranks_only_the_institutions_that_met_every_plan(rulebook_b):
    campaign, result_set = rulebook_b
    ranks = group_board(campaign, result_set, "prize_top6", INSTITUTION)
    # Filter first, then rank: D5 is seventh on the board but fourth among the eligible.
    assert ranks == {"D1": 1, "D7": 2, "D2": 3, "D5": 4}
    ranking = Ranking.objects.get(campaign=campaign, code="prize_top6")
    in_top = by_code(RankEntry.objects.filter(result_set_id=result_set.pk, ranking_id=ranking.pk, in_top=True), "rank")
    # The per-category ranking also ranks the savings offices that met every plan (S1, S2) in their
    # own group; the institution prize is paid on the 直管机构 group only.
    assert set(in_top) == {"D1", "D2", "D5", "D7", "S1", "S2"}


def test_savings_office_prize_needs_both_the_daily_average_and_the_balance_plan(rulebook_b):
    campaign, result_set = rulebook_b
    # S3 scores more than S2 but missed its balance plan (240 of 250).
    assert group_board(campaign, result_set, "savings_top6", SAVINGS_OFFICE) == {"S1": 1, "S2": 2}


def test_single_plan_rankings_list_every_unit_that_met_that_plan(rulebook_b):
    campaign, result_set = rulebook_b
    # Corporate: both corporate plans met, by corporate points (D3 missed bal, D4 avg, D6 both).
    assert board(campaign, result_set, "single_corporate") == {"D1": 1, "D8": 2, "D2": 3, "D7": 4, "D5": 5}
    # Savings: D1 and S1 both 30 points, D2 and S2 both 26.1.
    assert board(campaign, result_set, "single_savings") == {
        "D1": 1, "S1": 1, "D3": 3, "D7": 4, "D2": 5, "S2": 5, "D5": 7,
    }
    # International by completion: 120 % (D1, D3, D5), 108 % (D2, D7), 102 % (D8).
    assert board(campaign, result_set, "single_intl") == {"D1": 1, "D3": 1, "D5": 1, "D2": 4, "D7": 4, "D8": 6}


def test_pro_rata_list_holds_units_at_80_percent_or_more_of_both_deposit_plans(rulebook_b):
    campaign, result_set = rulebook_b
    listed = set(board(campaign, result_set, "deposits_80pct"))
    # S4 reached exactly 80 % of both (inclusive); D4's daily average reached 900 of 1,200 (75 %);
    # D6's deposits fell.
    assert listed == {"D1", "D2", "D3", "D5", "D7", "D8", "S1", "S2", "S3", "S4", "H1", "H2"}
    completion = metric_results(campaign, result_set, "deposits_avg_inc", "completion")
    assert q(completion["S4"]) == q(d("0.8"))


def test_head_office_staff_who_met_both_canvassing_plans_are_listed_alone(rulebook_b):
    campaign, result_set = rulebook_b
    assert board(campaign, result_set, "head_office_staff") == {"H1": 1}
    completion = metric_results(campaign, result_set, "deposits_avg_inc", "completion")
    assert (q(completion["H1"]), q(completion["H2"])) == (q(1), q(d("0.85")))


def test_unit_boards_hold_no_staff(rulebook_b):
    campaign, result_set = rulebook_b
    for code in ("board", "prize_top6", "savings_top6", "single_corporate", "single_savings", "single_intl"):
        assert not set(board(campaign, result_set, code)) & set(HEAD_OFFICE_STAFF), code


def test_pos_piece_rate_figure_nets_out_withdrawn_terminals(rulebook_b):
    campaign, result_set = rulebook_b
    # D1: 10 phone POS + 4 traditional − 2 withdrawn or invalid.
    assert q(metric_results(campaign, result_set, "pos_net")["D1"]) == q(12)


def test_the_template_records_the_default_of_every_open_point(rulebook_b):
    campaign, _result_set = rulebook_b
    options = campaign.options
    assert options["relative_best_within"] == "own_group"
    assert options["negative_increase"] == "floor_zero"
    assert options["growth_rate_part"] == "completion_capped"
    assert options["bonus_items"] == "met"
    assert options["met_all_covers_bonus"] is False
    assert options["prize_pool_order"] == "filter_then_rank"
    assert options["savings_office_winners_per_tier"] == [2, 2, 2]
    assert Decimal(options["deputy_share"]) == Decimal("0.8")
    assert Decimal(options["pro_rata_from"]) == Decimal("0.8")
    assert options["pro_rata_mode"] == "reward_times_rate"
    assert options["pro_rata_rate"] == "lowest_of_daily_average_and_balance"
    assert options["card_spending_per_employee"] == 30
    assert options["card_spending_basis"] == "each_employee"
    assert options["card_spending_miss_loses"] == "card_reward"
    assert options["all_plans_staff_excluded_positions"] == ["head", "deputy", "middle_manager"]
    # The settings behind the defaults are the rules' own parameters.
    assert campaign.rules.get(code="corp_avg").group_set.code == "category"
    assert campaign.rules.get(code="corp_avg").params.get("allow_negative") is False
    assert campaign.rules.get(code="bonus_phone_pos").params == {"mode": "met"}
