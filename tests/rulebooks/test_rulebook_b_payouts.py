"""Rulebook B (district union deposit contest): the built-in template's rewards, paid in three locked runs.

Builds on the scoring test's twelve units (``test_rulebook_b_scoring``: D1–D8 institutions, S1–S4
savings offices, head-office staff H1–H3, same plans and quarter figures; its fixture recomputes
31 March) and adds a few employees, their card payments and one POS withdrawal. Each run is preceded
by a recompute of its end date and settled with four eyes (maker ≠ approver, both finance).
Amounts in yuan.

POS piece rate (rule 8), 300 per net POS, paid monthly on the cumulative count (J = 31 Jan, F = 28 Feb,
Q = 31 Mar). Phone POS arrive on 10 Jan (half) and 10 Mar (the rest): 10 at D1, D4, D8 (plan met),
9 elsewhere; D1 also installs 4 traditional POS on 1 Feb and loses 2 on 1 Mar; D3 loses 3 on 10 Feb.

unit       net POS J/F/Q   entitled J/F/Q      lines J / F / Q                          final
D1         5 / 9 / 12      1500/2700/3600      award 1500 / true-up 1200 / true-up 900  3600
D3         4 / 1 / 6       1200/300/1800       award 1200 / clawback −900 / true-up 1500 1800
D4, D8     5 / 5 / 10      1500/1500/3000      award 1500 / – / true-up 1500            3000
D2,D5–D7   4 / 4 / 9       1200/1200/2700      award 1200 / – / true-up 1500            2700
S1–S4      0               0                   –                                        0

Quarter-end rewards (the quarter run only; every line an award). Met all plans: D1, D2, D5, D7, S1,
S2. Pro-rata rate = min(whole-deposit avg, bal completion): D3 min(1350/1200, 1440/1500) = 0.96,
S4 min(160/200, 200/250) = 0.8, D4 0.75 (out), D8 ≥ 1 but missed its savings balance (nothing).

rule                          payees and amounts
prize_top6 (2)                D1 120 pts 8000; D7 103.8 6000; D2 100.3 6000; D5 75.75 4000
single_corporate (3) 4000     D1, D2, D5, D7, D8          (D3 900/1000 bal, D4 600/800 avg miss)
single_savings (3) 3000       D1, D2, D3, D5, D7, S1, S2  (D8 480/500, S3 240/250 miss)
single_intl (3) 3000          D1, D2, D3, D5, D7, D8      (D4, D6 60 % / 36 %)
savings_top6 (4) [2,2,2]      S1 3000, S2 3000            (S3, S4 missed a savings plan)
item_* (8) 2000 per item      personal: D1 D2 D4 D5 D7 S1 S3; corporate: D1 D4 D7; mobile: D1 D2 D4
                              D7 S1; phone POS: D1 D4 D8
head_all_plans (1) 10000      D1H                         (D4H, D8H nothing)
deputies_all_plans (1) ×0.8   D1V 8000
head_pro_rata (7)             D3H 10000 × 0.96 = 9600
deputies_pro_rata (7)         D3V 10000 × 0.8 × 0.96 = 7680
staff_all_plans (5) 3000      D1A, D1B, S1A               (heads, deputies excluded)
staff_pro_rata (7)            D3A 3000 × 0.96 = 2880; S4A 3000 × 0.8 = 2400 (D4A at 0.75: nothing)
head_office_staff (6, 7)      H1 min(1.0, 1.2) → 3000; H2 min(0.85, 0.9) → 2550; H3 0.5 nothing
card_spending 300 at ≥ 30     only where EVERY employee of the unit (assigned on 31 March) reached 30:

unit  employees' card payments (an employee without any counts 0)   lowest  paid
D1    D1H 30, D1V 30, D1A 30, D1B 29                                 29      nobody (D1B missed: D1A loses its 300)
D3    D3H 30, D3V 30, D3A 40                                         30      D3H, D3V, D3A 300 each
S4    S4H 30, S4A 30                                                 30      S4H, S4A 300 each
D4    D4H, D4A none                                                  0       nobody
D8, S1  D8H / S1A none                                               0       nobody

Clause 9 (承包社): leader L01 (head office) sponsors D1 and D3; middle manager M01 reports to L01.
Both statements show D1 (120 points, met every target, paid 29,600: POS 3,600, prize 8,000,
single plans 4,000 + 3,000 + 3,000, four intermediate items 8,000) and D3 (missed a plan, paid
7,800: POS 1,800, single savings 3,000 and international 3,000), as of 31 March; no rule pays them.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from branches import services as org
from branches.facts import FactSource, merge_facts
from branches.models import Indicator, Position, Staff, SubjectKind, Unit
from rewards.models import LineKind, PeriodKind, RewardScheme
from tests.rulebooks.payouts import paid_per_payee_and_rule, pay, payee
from tests.rulebooks.test_rulebook_b_scoring import QUARTER_END, QUARTER_START, rulebook_b  # noqa: F401

JAN_END, FEB_END = datetime.date(2027, 1, 31), datetime.date(2027, 2, 28)
HIRED = datetime.date(2026, 1, 1)

# employee number: (unit, position)
EMPLOYEES = {
    "D1H": ("D1", Position.HEAD), "D1V": ("D1", Position.DEPUTY),
    "D1A": ("D1", Position.ACCOUNT_MANAGER), "D1B": ("D1", Position.TELLER),
    "D3H": ("D3", Position.HEAD), "D3V": ("D3", Position.DEPUTY), "D3A": ("D3", Position.TELLER),
    "D4H": ("D4", Position.HEAD), "D4A": ("D4", Position.TELLER),
    "D8H": ("D8", Position.HEAD),
    "S1A": ("S1", Position.TELLER),
    "S4H": ("S4", Position.HEAD), "S4A": ("S4", Position.TELLER),
}
# card payments in Q1, in two batches (15 Jan, 15 Mar)
CARD_PAYMENTS = {
    "D1H": (30, 0), "D1V": (12, 18), "D1A": (15, 15), "D1B": (14, 15),
    "D3H": (15, 15), "D3V": (1, 29), "D3A": (20, 20),
    "S4H": (29, 1), "S4A": (10, 20),
}

POS_LINES = {
    "january": {
        "D1": (LineKind.AWARD, "1500"), "D2": (LineKind.AWARD, "1200"), "D3": (LineKind.AWARD, "1200"),
        "D4": (LineKind.AWARD, "1500"), "D5": (LineKind.AWARD, "1200"), "D6": (LineKind.AWARD, "1200"),
        "D7": (LineKind.AWARD, "1200"), "D8": (LineKind.AWARD, "1500"),
    },
    "february": {"D1": (LineKind.TRUE_UP, "1200"), "D3": (LineKind.CLAWBACK, "-900")},
    "quarter": {
        "D1": (LineKind.TRUE_UP, "900"), "D2": (LineKind.TRUE_UP, "1500"), "D3": (LineKind.TRUE_UP, "1500"),
        "D4": (LineKind.TRUE_UP, "1500"), "D5": (LineKind.TRUE_UP, "1500"), "D6": (LineKind.TRUE_UP, "1500"),
        "D7": (LineKind.TRUE_UP, "1500"), "D8": (LineKind.TRUE_UP, "1500"),
    },
}


def _each(rule: str, amount: str, payees: str) -> dict:
    return {(payee, rule): amount for payee in payees.split()}


# The quarter-end rules' amounts (every one an award line of the quarter run), from the docstring.
QUARTER_AWARDS = {
    ("D1", "prize_top6"): "8000", ("D7", "prize_top6"): "6000", ("D2", "prize_top6"): "6000",
    ("D5", "prize_top6"): "4000",
    **_each("single_corporate", "4000", "D1 D2 D5 D7 D8"),
    **_each("single_savings", "3000", "D1 D2 D3 D5 D7 S1 S2"),
    **_each("single_intl", "3000", "D1 D2 D3 D5 D7 D8"),
    **_each("savings_top6", "3000", "S1 S2"),
    **_each("item_ebank_personal", "2000", "D1 D2 D4 D5 D7 S1 S3"),
    **_each("item_ebank_corp", "2000", "D1 D4 D7"),
    **_each("item_mobile_bank", "2000", "D1 D2 D4 D7 S1"),
    **_each("item_phone_pos", "2000", "D1 D4 D8"),
    ("D1H", "head_all_plans"): "10000",
    ("D1V", "deputies_all_plans"): "8000",
    ("D3H", "head_pro_rata"): "9600",
    ("D3V", "deputies_pro_rata"): "7680",
    **_each("staff_all_plans", "3000", "D1A D1B S1A"),
    ("D3A", "staff_pro_rata"): "2880", ("S4A", "staff_pro_rata"): "2400",
    ("H1", "head_office_staff"): "3000", ("H2", "head_office_staff"): "2550",
    **_each("card_spending", "300", "D3H D3V D3A S4H S4A"),
}
POS_FINAL = {"D1": "3600", "D2": "2700", "D3": "1800", "D4": "3000", "D5": "2700", "D6": "2700", "D7": "2700", "D8": "3000"}
FINAL = {**QUARTER_AWARDS, **{(unit, "pos_piece"): amount for unit, amount in POS_FINAL.items()}}


def fen(amount: str) -> Decimal:
    return Decimal(amount).quantize(Decimal("0.01"))



def lines_of(run, rule_code: str) -> dict:
    return {payee(line): (line.kind, line.amount) for line in run.lines.filter(rule__code=rule_code)}


@pytest.fixture
def campaign(rulebook_b):  # noqa: F811
    campaign, _result_set = rulebook_b
    units = dict(Unit.objects.values_list("code", "id"))
    staff = {
        number: org.hire_staff(
            employee_no=number, name=f"员工{number}", unit=Unit.objects.get(code=unit), position=position, on=HIRED
        ).pk
        for number, (unit, position) in EMPLOYEES.items()
    }
    card = Indicator.objects.get(code="CARD_SPEND_TXN")  # the template brings it into the catalogue
    indicators = dict(Indicator.objects.values_list("code", "id"))
    rows = [
        (indicators["POS_REMOVED"], SubjectKind.UNIT, units["D3"], datetime.date(2027, 2, 10), Decimal(3)),
    ]
    for number, (january, march) in CARD_PAYMENTS.items():
        rows += [
            (card.pk, SubjectKind.STAFF, staff[number], datetime.date(2027, 1, 15), Decimal(january)),
            (card.pk, SubjectKind.STAFF, staff[number], datetime.date(2027, 3, 15), Decimal(march)),
        ]
    outcome = merge_facts(
        rows=[(*row, n) for n, row in enumerate(rows, start=1)],
        source=FactSource(kind="manual", reference="rulebook B payout test data"),
    )
    assert outcome.ok, outcome.errors[:3]
    return campaign




@pytest.fixture
def runs(campaign, finance):
    return {
        "january": pay(campaign, finance, JAN_END),
        "february": pay(campaign, finance, FEB_END),
        "quarter": pay(campaign, finance, QUARTER_END, kind=PeriodKind.QUARTER, start=QUARTER_START),
    }


def test_template_b_carries_every_reward(campaign):
    scheme = RewardScheme.objects.get(campaign_code=campaign.code)
    assert scheme.code == "B-2027-main"
    assert set(scheme.rules.values_list("code", flat=True)) == {rule for _payee, rule in FINAL}


def test_month_end_runs_pay_only_the_pos_piece_rate(runs):
    for month in ("january", "february"):
        run = runs[month]
        assert set(run.lines.values_list("rule__code", flat=True)) == {"pos_piece"}, month
        assert lines_of(run, "pos_piece") == {code: (kind, fen(amount)) for code, (kind, amount) in POS_LINES[month].items()}


def test_a_withdrawn_pos_is_clawed_back_against_the_january_line(runs):
    clawback = runs["february"].lines.get(rule__code="pos_piece", unit_code="D3")
    assert clawback.amount == fen("-900")
    assert clawback.adjusts == runs["january"].lines.get(rule__code="pos_piece", unit_code="D3")


def test_quarter_trues_up_the_pos_piece_rate(runs):
    expected = {code: (kind, fen(amount)) for code, (kind, amount) in POS_LINES["quarter"].items()}
    assert lines_of(runs["quarter"], "pos_piece") == expected


def test_quarter_end_rewards_per_payee_and_rule(runs):
    got = {
        (payee(line), line.rule.code): (line.kind, line.amount)
        for line in runs["quarter"].lines.exclude(rule__code="pos_piece").select_related("rule")
    }
    assert got == {key: (LineKind.AWARD, fen(amount)) for key, amount in QUARTER_AWARDS.items()}


def test_tier_prizes_carry_the_tier_award(runs):
    prizes = {line.unit_code: line.non_cash_award for line in runs["quarter"].lines.filter(rule__code="prize_top6")}
    assert prizes == {"D1": "一等奖", "D7": "二等奖", "D2": "二等奖", "D5": "三等奖"}


def test_one_employee_short_of_30_card_payments_forfeits_the_card_reward_of_the_whole_unit(runs):
    paid = set(runs["quarter"].lines.filter(rule__code="card_spending").values_list("employee_no", flat=True))
    assert "D1A" not in paid  # 30 payments of its own, but D1B made 29
    assert paid == {"D3H", "D3V", "D3A", "S4H", "S4A"}


def test_staff_lines_name_the_unit_of_the_payee(runs):
    line = runs["quarter"].lines.get(rule__code="staff_pro_rata", employee_no="S4A")
    assert (line.payee_kind, line.unit_code) == (SubjectKind.STAFF, "S4")


def test_monthly_lines_plus_adjustments_add_up_to_the_quarter_final_for_every_payee(runs):
    totals = paid_per_payee_and_rule(runs.values())
    assert totals == {key: fen(amount) for key, amount in FINAL.items()}


def test_runs_are_locked_with_four_eyes(runs, finance):
    for run in runs.values():
        assert run.state == "locked"
        assert run.created_by == finance["maker"] and run.approved_by == finance["checker"]


def test_leaders_and_middle_managers_statements_show_their_sponsored_institutions(runs, campaign, client, finance):
    from rewards import sponsorship
    from scoring.models import ParticipantResult
    from scoring.selectors import current_result_set

    head_office = Unit.objects.get(code="HO")
    for number, position in (("L01", Position.HEAD), ("M01", Position.MIDDLE_MANAGER)):
        org.hire_staff(employee_no=number, name=f"员工{number}", unit=head_office, position=position, on=HIRED)
    scheme = RewardScheme.objects.get(campaign_code=campaign.code)
    assert scheme.sponsorships == []  # the template ships the place for the links, empty
    scheme.sponsorships = [{"staff": "L01", "units": ["D1", "D3"]}, {"staff": "M01", "through": "L01"}]
    scheme.full_clean()
    scheme.save()

    d3_points = ParticipantResult.objects.get(
        result_set_id=current_result_set(campaign.pk, QUARTER_END).pk,
        participant_id=campaign.participants.get(unit__code="D3").pk,
    ).total_points
    for number, through in (("L01", ""), ("M01", "L01")):
        got = {
            row.unit_code: (row.through, row.as_of, row.total_points, row.met_all_targets, row.paid)
            for row in sponsorship.sponsored_units(number)
        }
        assert got == {
            "D1": (through, QUARTER_END, Decimal("120"), True, fen("29600")),
            "D3": (through, QUARTER_END, d3_points, False, fen("7800")),
        }
    assert sponsorship.sponsored_units("D1H") == []  # not linked
    client.force_login(finance["maker"])
    page = client.get(reverse("rewards:staff_statement", args=[Staff.objects.get(employee_no="M01").pk]))
    body = page.content.decode()
    assert "29,600.00" in body and "7,800.00" in body and "L01" in body
