"""Rulebook A (county credit union): the built-in template's rewards, paid in three locked runs.

Builds on the scoring test's twelve branches (``test_rulebook_a_scoring``: same targets and quarter
figures) and adds month-end balances, POS placements (per branch and per staff member) and a POS
target of 3 per branch (12 × 3 = the county's 36). Each run is preceded by a recompute of its end
date and settled with four eyes (maker ≠ approver, both finance). B08 is flagged for falsified
figures after the February run. Amounts in yuan; deposits and card deposits are cumulative net
increases in 万元 at 31 Jan / 28 Feb / 31 Mar (card target 200 万).

Deposit piece rate: 1,000 × ⌊increase ÷ 100 万⌋ when card ≥ 200 and not vetoed, on cumulative
figures; each run pays entitlement to date − paid (J = January run, F = February, Q = quarter).

branch  deposits         card          entitled J/F/Q        lines J / F / Q                        final
B01     550/480/1200     200/200/200   5000/4000/12000       award 5000 / clawback −1000 / true-up 8000  12000
B02     300/650/1000     100/250/250   0/6000/10000          – / award 6000 / true-up 4000           10000
B03     300/600/900      50/80/100     0/0/0                 –                                          0
B04     250/250/1000     200/150/200   2000/0/10000          award 2000 / clawback −2000 / true-up 10000 10000
B05     100/300/500      20/40/50      0/0/0                 –                                          0
B06     150/50/−100      200/200/200   1000/0/0              award 1000 / clawback −1000 / –            0
B07     300/500/1000     200/210/190   3000/5000/0           award 3000 / true-up 2000 / clawback −5000  0
B08     400/700/1000     200/200/200   4000/7000/0 (vetoed)  award 4000 / true-up 3000 / clawback −7000  0
B09     100/300/700      50/80/100     0/0/0                 –                                          0
B10     199/350/600      200/200/200   1000/3000/6000        award 1000 / true-up 2000 / true-up 3000   6000
B11     500/800/1100     300/300/300   5000/8000/11000       award 5000 / true-up 3000 / true-up 3000   11000
B12     0/0/0            0/0/0         0/0/0                 –                                          0

Quarter-end rules (paid in the quarter run only):

- POS (target 3): B01 3 (S01 2, S02 1), B02 2 (S03 2), B04 1 (S05 1), B05 0, B06 4, B11 3 (S04 3),
  the others 3. Staff piece rate 500 each: S01 1000, S02 500, S03 1000, S04 1500, S05 500; S06
  (2 of B08's POS) nothing: B08 is vetoed for falsified figures, and its staff lose the reward too.
  Shortfall 500 per terminal: B02 −500, B04 −1000, B05 −1500.
- Rank prize (met every target, POS included, not vetoed): the scoring's prize board is B01 1,
  B02 2, B11 3 (B08 met all but is vetoed); B02 missed POS, so B01 20000, B11 15000.
- Single-metric prizes 5000/3000/2000 by completion among those who met the target (B08 vetoed);
  ties share the better place:
  deposits B01 120 % 5000, B11 110 % 3000, B02 B04 B07 100 % 2000 each;
  interest B11 120 % 5000, B01 110 % 3000, B02 B04 B07 B10 100 % 2000 each;
  NPL      B07 150 % 5000, B02 125 % 3000, B01 B04 B06 B11 100 % 2000 each;
  card     B11 150 % 5000, B02 125 % 3000, B01 B04 B06 B10 100 % 2000 each.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db.models import Sum

from branches.facts import FactSource, merge_facts
from branches.models import Indicator, SubjectKind, Unit, UnitKind
from branches.services import hire_staff
from campaigns.campaign_file import import_campaign, load_template
from rewards.models import LineKind, PayoutLine, PeriodKind, RewardScheme
from scoring import services as scoring_services
from tests.rulebooks.payouts import paid_per_payee_and_rule, pay, payee
from tests.rulebooks.test_rulebook_a_scoring import BASE_DAY, BRANCHES, QUARTER_END, WAN, figures

Q1_START, JAN_END, FEB_END = datetime.date(2027, 1, 1), datetime.date(2027, 1, 31), datetime.date(2027, 2, 28)

# code: cumulative (deposit increase, card increase) in 万元 at 31 Jan and 28 Feb
MONTH_ENDS = {
    "B01": ((550, 200), (480, 200)),
    "B02": ((300, 100), (650, 250)),
    "B03": ((300, 50), (600, 80)),
    "B04": ((250, 200), (250, 150)),
    "B05": ((100, 20), (300, 40)),
    "B06": ((150, 200), (50, 200)),
    "B07": ((300, 200), (500, 210)),
    "B08": ((400, 200), (700, 200)),
    "B09": ((100, 50), (300, 80)),
    "B10": ((199, 200), (350, 200)),
    "B11": ((500, 300), (800, 300)),
    "B12": ((0, 0), (0, 0)),
}
# POS placed per branch in the quarter (e-banking department), and by whom: staff no → (branch, count)
POS_BY_BRANCH = {"B01": 3, "B02": 2, "B04": 1, "B05": 0, "B06": 4, "B11": 3}
POS_BY_STAFF = {
    "S01": ("B01", 2), "S02": ("B01", 1), "S03": ("B02", 2), "S04": ("B11", 3), "S05": ("B04", 1),
    "S06": ("B08", 2),  # of the falsified branch: paid nothing (退钱交荣誉 reaches its staff)
}

DEPOSIT_LINES = {
    "january": {
        "B01": (LineKind.AWARD, "5000"), "B04": (LineKind.AWARD, "2000"), "B06": (LineKind.AWARD, "1000"),
        "B07": (LineKind.AWARD, "3000"), "B08": (LineKind.AWARD, "4000"), "B10": (LineKind.AWARD, "1000"),
        "B11": (LineKind.AWARD, "5000"),
    },
    "february": {
        "B01": (LineKind.CLAWBACK, "-1000"), "B02": (LineKind.AWARD, "6000"),
        "B04": (LineKind.CLAWBACK, "-2000"), "B06": (LineKind.CLAWBACK, "-1000"),
        "B07": (LineKind.TRUE_UP, "2000"), "B08": (LineKind.TRUE_UP, "3000"),
        "B10": (LineKind.TRUE_UP, "2000"), "B11": (LineKind.TRUE_UP, "3000"),
    },
    "quarter": {
        "B01": (LineKind.TRUE_UP, "8000"), "B02": (LineKind.TRUE_UP, "4000"),
        "B04": (LineKind.TRUE_UP, "10000"), "B07": (LineKind.CLAWBACK, "-5000"),
        "B08": (LineKind.CLAWBACK, "-7000"), "B10": (LineKind.TRUE_UP, "3000"),
        "B11": (LineKind.TRUE_UP, "3000"),
    },
}
# The quarter's final amount per (payee, rule), from the table in the docstring.
FINAL = {
    ("B01", "deposit_piece"): "12000", ("B02", "deposit_piece"): "10000", ("B04", "deposit_piece"): "10000",
    ("B06", "deposit_piece"): "0", ("B07", "deposit_piece"): "0", ("B08", "deposit_piece"): "0",
    ("B10", "deposit_piece"): "6000", ("B11", "deposit_piece"): "11000",
    ("S01", "pos_piece"): "1000", ("S02", "pos_piece"): "500", ("S03", "pos_piece"): "1000",
    ("S04", "pos_piece"): "1500", ("S05", "pos_piece"): "500",
    ("B02", "pos_shortfall"): "-500", ("B04", "pos_shortfall"): "-1000", ("B05", "pos_shortfall"): "-1500",
    ("B01", "rank_prize"): "20000", ("B11", "rank_prize"): "15000",
    ("B01", "single_deposits"): "5000", ("B11", "single_deposits"): "3000", ("B02", "single_deposits"): "2000",
    ("B04", "single_deposits"): "2000", ("B07", "single_deposits"): "2000",
    ("B11", "single_interest"): "5000", ("B01", "single_interest"): "3000", ("B02", "single_interest"): "2000",
    ("B04", "single_interest"): "2000", ("B07", "single_interest"): "2000", ("B10", "single_interest"): "2000",
    ("B07", "single_npl"): "5000", ("B02", "single_npl"): "3000", ("B01", "single_npl"): "2000",
    ("B04", "single_npl"): "2000", ("B06", "single_npl"): "2000", ("B11", "single_npl"): "2000",
    ("B11", "single_card"): "5000", ("B02", "single_card"): "3000", ("B01", "single_card"): "2000",
    ("B04", "single_card"): "2000", ("B06", "single_card"): "2000", ("B10", "single_card"): "2000",
}
QUARTER_END_RULES = ("pos_piece", "pos_shortfall", "rank_prize", "single_deposits", "single_interest", "single_npl", "single_card")



def lines_of(run, rule_code: str) -> dict:
    return {payee(line): (line.kind, line.amount) for line in run.lines.filter(rule__code=rule_code)}


def expect(table: dict) -> dict:
    return {code: (kind, Decimal(amount).quantize(Decimal("0.01"))) for code, (kind, amount) in table.items()}


def month_end_figures() -> list[tuple[str, str, datetime.date, Decimal]]:
    rows = []
    for code, months in MONTH_ENDS.items():
        for day, (deposits, card) in zip((JAN_END, FEB_END), months, strict=True):
            rows += [
                (code, "DEP_BAL", day, (50_000 + Decimal(deposits)) * WAN),
                (code, "CARD_DEP_BAL", day, (3_000 + Decimal(card)) * WAN),
            ]
    # POS placements arrive as daily counts; a branch not listed placed 3 (two in January, one in March).
    for code in BRANCHES:
        placed = POS_BY_BRANCH.get(code, 3)
        rows += [(code, "POS_PLACED", datetime.date(2027, 1, 10), Decimal(min(placed, 2)))]
        rows += [(code, "POS_PLACED", datetime.date(2027, 3, 5), Decimal(placed - min(placed, 2)))]
    return rows


@pytest.fixture
def campaign(db):
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
            ("card_deposits", 200 * WAN), ("collection_rate", "0.97"), ("pos", 3),
        ]
    ]
    campaign = import_campaign(doc, code="A-2027")
    units = dict(Unit.objects.values_list("code", "id"))
    staff = {
        number: hire_staff(employee_no=number, name=f"员工{number}", unit=Unit.objects.get(code=branch), on=BASE_DAY).pk
        for number, (branch, _count) in POS_BY_STAFF.items()
    }
    indicators = dict(Indicator.objects.values_list("code", "id"))
    rows = [
        (indicators[ind], SubjectKind.UNIT, units[code], day, value)
        for code, ind, day, value in figures() + month_end_figures()
    ]
    rows += [
        (indicators["POS_PLACED"], SubjectKind.STAFF, staff[number], datetime.date(2027, 2, 20), Decimal(count))
        for number, (_branch, count) in POS_BY_STAFF.items()
    ]
    outcome = merge_facts(
        rows=[(*row, n) for n, row in enumerate(rows, start=1)],
        source=FactSource(kind="manual", reference="rulebook A payout test data"),
    )
    assert outcome.ok, outcome.errors[:3]
    return campaign




@pytest.fixture
def runs(campaign, finance):
    january = pay(campaign, finance, JAN_END)
    february = pay(campaign, finance, FEB_END)
    # Found after February's payment: B08's figures were falsified (退钱交荣誉).
    scoring_services.set_flag(participant=campaign.participants.get(unit__code="B08"), code="falsified")
    quarter = pay(campaign, finance, QUARTER_END, kind=PeriodKind.QUARTER, start=Q1_START)
    return {"january": january, "february": february, "quarter": quarter}


def test_template_a_carries_every_reward_and_penalty(campaign):
    scheme = RewardScheme.objects.get(campaign_code=campaign.code)
    assert scheme.code == "A-2027-main"
    assert dict(scheme.rules.values_list("code", "kind")) == {
        "deposit_piece": "piece_rate", "pos_piece": "piece_rate", "pos_shortfall": "shortfall_penalty",
        "rank_prize": "rank_prize", "single_deposits": "rank_prize", "single_interest": "rank_prize",
        "single_npl": "rank_prize", "single_card": "rank_prize",
    }


def test_january_pays_only_the_deposit_piece_rate_to_branches_with_the_card_target_met(runs):
    january = runs["january"]
    assert set(january.lines.values_list("rule__code", flat=True)) == {"deposit_piece"}
    assert lines_of(january, "deposit_piece") == expect(DEPOSIT_LINES["january"])


def test_february_claws_back_falls_and_trues_up_rises(runs):
    february = runs["february"]
    assert set(february.lines.values_list("rule__code", flat=True)) == {"deposit_piece"}
    assert lines_of(february, "deposit_piece") == expect(DEPOSIT_LINES["february"])
    clawback = february.lines.get(rule__code="deposit_piece", unit_code="B01")
    assert clawback.adjusts == runs["january"].lines.get(rule__code="deposit_piece", unit_code="B01")


def test_quarter_trues_up_deposits_and_takes_back_a_falsified_branchs_money(runs):
    quarter = runs["quarter"]
    assert lines_of(quarter, "deposit_piece") == expect(DEPOSIT_LINES["quarter"])
    b08 = PayoutLine.objects.filter(rule__code="deposit_piece", unit_code="B08")
    assert b08.aggregate(total=Sum("amount"))["total"] == 0


def test_quarter_end_pos_prizes_and_penalties(runs):
    quarter = runs["quarter"]
    final = {key: Decimal(value) for key, value in FINAL.items()}
    for rule in QUARTER_END_RULES:
        kind = LineKind.PENALTY if rule == "pos_shortfall" else LineKind.AWARD
        assert lines_of(quarter, rule) == {
            code: (kind, amount.quantize(Decimal("0.01"))) for (code, rule_code), amount in final.items() if rule_code == rule
        }, rule
    s01 = quarter.lines.get(rule__code="pos_piece", employee_no="S01")
    assert (s01.payee_kind, s01.unit_code) == (SubjectKind.STAFF, "B01")


def test_staff_of_the_falsified_branch_lose_their_pos_reward(runs):
    assert not PayoutLine.objects.filter(rule__code="pos_piece", employee_no="S06").exists()
    s04 = runs["quarter"].lines.get(rule__code="pos_piece", employee_no="S04")
    assert s04.amount == Decimal("1500.00")  # the condition holds for a branch that is not vetoed


def test_monthly_lines_plus_adjustments_add_up_to_the_quarter_final_for_every_payee(runs):
    totals = paid_per_payee_and_rule(runs.values())
    assert totals == {key: Decimal(value) for key, value in FINAL.items()}


def test_runs_are_locked_with_four_eyes(runs, finance):
    for run in runs.values():
        assert run.state == "locked"
        assert run.created_by == finance["maker"] and run.approved_by == finance["checker"]
