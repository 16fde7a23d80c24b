"""Rulebook D (every employee's deposit assessment): the built-in template's rewards in three locked runs.

Builds on the scoring test's bank (``test_rulebook_d_scoring``: the same twelve employees, daily
balances, D09's deposits by kind, teller counts, head-office tasks and the six sub-branches of the
head-to-head) and adds three staff to the sub-branches that meet their plan (Z01 head of S5, Z02
staff of S5, Z03 head of S2) and D09's and D01's deposits one by one (business items, below).
Runs: January (month-end), February, and the quarter; each preceded by a recompute of its end date
and settled with four eyes (maker ≠ approver, both finance).

Corrections between runs (a true-up and a clawback of an earlier month):
- after the January run, D10's January balances are corrected from 625,000 to 700,000 a day;
- after the February run, D07's February balances are corrected from 1,550,000 to 1,400,000 a day.

Monthly pay (monthly_pay): 1,300 below 350,000; 1,400 + 20 per full 50,000 above 350,000; from
1,800,000 frozen at 2,380. Each month on its own daily average (calendar days):

staff  Jan avg → pay            Feb avg → pay              Mar avg → pay     lines J / F / Q                    final
D01    2,500,000 → 2380          3,200,000 → 2380           3,200,000 → 2380  2380 / 2380 / 2380                  7140
D02      320,000 → 1300            300,000 → 1300             310,000 → 1300  1300 / 1300 / 1300                  3900
D03      385,000 → 1400            360,000 → 1400             360,000 → 1400  1400 / 1400 / 1400                  4200
D04      500,000 → 1460 (3 st.)    349,999.5 → 1300 (falls)   500,000 → 1460  1460 / 1300 / 1460                  4220
D05    2,500,000 → 2380          3,000,000 → 2380           2,000,000 → 2380  2380 / 2380 / 2380                  7140
D06      800,000 → 1580 (9)        900,000 → 1620 (11)      1,000,000 → 1660  1580 / 1620 / 1660                  4860
D07    1,250,000 → 1760 (18)     1,550,000 → 1880 (24)      1,600,000 → 1900  1760 / 1880 / 1900 + Feb clawback −60  5480
                                 corrected 1,400,000 → 1820 (21)
D09    1,000,000 → 1660 (13)     2,000,000 → 2380           4,000,000 → 2380  1660 / 2380 / 2380                  6420
D10      625,000 → 1500 (5)        775,000 → 1560 (8)         800,000 → 1580  1500 / 1560 + Jan true-up 40 / 1580  4680
         corrected 700,000 → 1540 (7)
H01    1,200,000 → 1740 (17) every month                                     1740 × 3                            5220
H02      900,000 → 1620 (11) every month                                     1620 × 3                            4860
(D08 has no figures: no line.)

Above 2,000,000 (deposits stacked by deposit date, oldest first, the same date by account number;
each weighs amount × days held in the month ÷ the month's days; per 10,000, in proportion: time
≥ 1 year 10, + 5 on its part above 3,000,000; short 5; corporate 4). The deposits (DEPOSITS):

D09   C1 corp 100,000, S1 short 300,000, T1 time 600,000   1 December 2026
      C2 corp 200,000, S2 short 200,000, T2 time 600,000   1 February
      C3 corp 200,000, S3 short 500,000, T3 time 680,000, T4 time 620,000   1 March
D01   C1 corp 40,000 (25 February), S1 short 60,000 (26 February), T1 time 3,100,000 (27 February)

January: D09 1,000,000 (below); February: D09 2,000,000 (at the bar: nothing above it), D01
(160,000 + 180,000 + 6,200,000) ÷ 28 ≈ 233,571 (below). Nothing paid.
March, D09 (4,000,000): running totals C1 S1 T1 1,000,000, C2 S2 T2 2,000,000, C3 2,200,000,
S3 2,700,000, T3 3,380,000, T4 4,000,000. Above 2,000,000: time 1,300,000 → 1,300; short
500,000 → 250; corporate 200,000 → 80; time above 3,000,000 (T3's 380,000 + T4's 620,000)
1,000,000 → + 500. Total 2,130.
March, D01 (3,200,000): C1 40,000, S1 100,000, T1 3,200,000: time above 2,000,000 1,200,000 →
1,200, above 3,000,000 200,000 → + 100; short and corporate lie below the bar: 0. Total 1,300.
D05 has no deposit items: nothing.

Tellers (front desk D02, D06; bar 50 × the bank's working days, with no calendar days listed
Mon–Fri: Jan 1,050, Feb 1,000, Mar 1,150; 0.2 each): D02 1,200 / 1,000 / 1,300 → 30 / 0 / 30; D06
900 / 1,100 / 1,000 → 0 / 20 / 0. D01 (5,000, not front desk) gets nothing.
With the bank's calendar listing 元旦 (Fri 1 January), 春节 (Sat 6 February, a weekend: no change;
Mon 8 – Wed 10 February) and a make-up Saturday (20 February): January 21 − 1 = 20 working days
(bar 1,000), February 20 − 3 + 1 = 18 (bar 900), March 23 (1,150): D02 → 40 / 20 / 30, D06 → 0 /
40 / 0.

Quarter end (quarter run only):
- head office: H01 120 % of task → head_office_task 500; H02 90 % → head_office_miss −500;
- head-to-head on plan completion: PAIR1 S2 (100 %) beats S1 (80 %, missed) → S2 1000, S1 −500;
  PAIR2 S3 = S4 (90 %) draw → nothing; PAIR3 S5 (120 %) beats S6 (−10 %) → S5 1000, S6 −500;
- completion bonus (S2 and S5 met their plans): 1,000 to every employee but the head assigned on
  31 March (S2: D05 D06 D07 D08; S5: Z02), 2,000 to each head (Z03 of S2, Z01 of S5).

Rank 1 of the month (the scoring test's boards on each month's last day): January D01 and D05
(tied), February D01, March D09. Months at rank 1 in a row before the quarter (planner input,
RANK1_MONTHS_BEFORE on 31 December): D01 2, D05 1. Streak increases (rank1_streak, each month):

staff  Jan streak → pay    Feb streak → pay     Mar streak → pay
D01    2 + 1 = 3 → 200     2 + 2 = 4 → 400      0 (rank 2) → –      final 600
D05    1 + 1 = 2 → 200     0 (rank 2) → –       0 → –               final 200
D09    0 → –               0 → –                1 → –
Others' share (monthly_pay): the template pays everyone 100 % ("1"); with others_share 0.9 January
pays rank 1 (D01, D05) 2,380 and everyone else 90 % of the table: D02 1,170, D03 1,260, D04 1,314,
D06 1,422, D07 1,584, D09 1,494, D10 1,350, H01 1,566, H02 1,458.

Whole bank (head-office unit HO): deposits 100,000,000 on 31 December, 130,000,000 on 31 March:
the increase 30,000,000 meets the bank's task of 30,000,000, so both head-office staff get 1,000
(head_office_bank_task), which replaces H01's own-task 500 (non-stacking group head_office_task);
H02 still pays the −500 for its own missed task.

Above the plan, 1 ‰ of the excess: S5 (1,200,000 − 1,000,000) × 0.001 = 200; S2 exactly at plan 0.

Year end (a run for December, after the quarter): 3 yuan per new deposit account still active, to
front-desk tellers and administrative staff (accounts as business items NEW_ACCOUNT): D02 (front
desk) 4 opened, one closed on 1 June → 3 → 9; D03 (administrative) 2 → 6, one more opened on
2 January 2028 (next year) not counted; D06 (front desk, made administrative for this test too)
1 → 3, paid once; D01 (account manager) 5 → nothing. The quarter's rules add no line.

Early withdrawal after the quarter run (a correction run ending 31 March): D09 withdrew T4
(620,000, a rewarded one-year time deposit) on 17 March, within a year of its deposit: its reward
is taken back (the time rules' void_if_ended_within_years: 1), while held 16 of March's 31 days
it still weighs 320,000 in the stack (the facts are corrected alike: time deposits 1,880,000 and
the balance 3,380,000 on days 17–31). Running totals: C3 2,200,000, S3 2,700,000, T3 3,380,000,
T4 3,700,000 (void). Time above 2,000,000: T3's 680,000 → 680 (−620); above 3,000,000: T3's
380,000 → 190 (−310); short and corporate unchanged: −930 clawed back = T4's 620,000 at 15 per
10,000. The monthly pay stays 2,380 (no line).
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db.models import Sum

from branches import services as org
from branches.facts import FactSource, merge_facts
from branches.models import Indicator, Position, Staff, SubjectKind, Unit, UnitKind
from campaigns.campaign_file import import_campaign, load_template
from rewards.item_import import import_items
from rewards.models import LineKind, PayoutLine, PeriodKind, RewardScheme
from tests.rulebooks.payouts import paid_per_payee_and_rule, pay, payee, placeholders_replaced
from tests.rulebooks.test_rulebook_d_scoring import (
    FEB_END,
    FLAGS,
    JAN_END,
    PAIRS,
    QUARTER_END,
    STAFF,
    TASK,
    UNITS,
    days,
    figures,
)

Q1_START, FEB_START, MAR_START = datetime.date(2027, 1, 1), datetime.date(2027, 2, 1), datetime.date(2027, 3, 1)
# Deposits one by one (business items): employee, kind, account number, deposit date, amount.
DEPOSITS = [
    ("D09", "STAFF_DEP_CORP", "D09-C1", "2026-12-01", 100_000),
    ("D09", "STAFF_DEP_SHORT", "D09-S1", "2026-12-01", 300_000),
    ("D09", "STAFF_DEP_TIME_1Y", "D09-T1", "2026-12-01", 600_000),
    ("D09", "STAFF_DEP_CORP", "D09-C2", "2027-02-01", 200_000),
    ("D09", "STAFF_DEP_SHORT", "D09-S2", "2027-02-01", 200_000),
    ("D09", "STAFF_DEP_TIME_1Y", "D09-T2", "2027-02-01", 600_000),
    ("D09", "STAFF_DEP_CORP", "D09-C3", "2027-03-01", 200_000),
    ("D09", "STAFF_DEP_SHORT", "D09-S3", "2027-03-01", 500_000),
    ("D09", "STAFF_DEP_TIME_1Y", "D09-T3", "2027-03-01", 680_000),
    ("D09", "STAFF_DEP_TIME_1Y", "D09-T4", "2027-03-01", 620_000),
    ("D01", "STAFF_DEP_CORP", "D01-C1", "2027-02-25", 40_000),
    ("D01", "STAFF_DEP_SHORT", "D01-S1", "2027-02-26", 60_000),
    ("D01", "STAFF_DEP_TIME_1Y", "D01-T1", "2027-02-27", 3_100_000),
]
ITEM_COLUMNS = ("staff", "kind", "item_no", "date", "amount", "end_date")
EXTRA_STAFF = {"Z01": ("S5", Position.HEAD), "Z02": ("S5", Position.STAFF), "Z03": ("S2", Position.HEAD)}
RANK1_MONTHS_BEFORE = {"D01": 2, "D05": 1}
BANK_DEPOSITS = {datetime.date(2026, 12, 31): 100_000_000, QUARTER_END: 130_000_000}

# Monthly pay per run: (payee, kind, month the line is for) -> amount, from the docstring's table.
MONTHLY_PAY = {
    "january": {
        ("D01", LineKind.AWARD, Q1_START): "2380", ("D02", LineKind.AWARD, Q1_START): "1300",
        ("D03", LineKind.AWARD, Q1_START): "1400", ("D04", LineKind.AWARD, Q1_START): "1460",
        ("D05", LineKind.AWARD, Q1_START): "2380", ("D06", LineKind.AWARD, Q1_START): "1580",
        ("D07", LineKind.AWARD, Q1_START): "1760", ("D09", LineKind.AWARD, Q1_START): "1660",
        ("D10", LineKind.AWARD, Q1_START): "1500", ("H01", LineKind.AWARD, Q1_START): "1740",
        ("H02", LineKind.AWARD, Q1_START): "1620",
    },
    "february": {
        ("D01", LineKind.AWARD, FEB_START): "2380", ("D02", LineKind.AWARD, FEB_START): "1300",
        ("D03", LineKind.AWARD, FEB_START): "1400", ("D04", LineKind.AWARD, FEB_START): "1300",
        ("D05", LineKind.AWARD, FEB_START): "2380", ("D06", LineKind.AWARD, FEB_START): "1620",
        ("D07", LineKind.AWARD, FEB_START): "1880", ("D09", LineKind.AWARD, FEB_START): "2380",
        ("D10", LineKind.AWARD, FEB_START): "1560", ("H01", LineKind.AWARD, FEB_START): "1740",
        ("H02", LineKind.AWARD, FEB_START): "1620",
        ("D10", LineKind.TRUE_UP, Q1_START): "40",  # January corrected: 1540 − 1500
    },
    "quarter": {
        ("D01", LineKind.AWARD, MAR_START): "2380", ("D02", LineKind.AWARD, MAR_START): "1300",
        ("D03", LineKind.AWARD, MAR_START): "1400", ("D04", LineKind.AWARD, MAR_START): "1460",
        ("D05", LineKind.AWARD, MAR_START): "2380", ("D06", LineKind.AWARD, MAR_START): "1660",
        ("D07", LineKind.AWARD, MAR_START): "1900", ("D09", LineKind.AWARD, MAR_START): "2380",
        ("D10", LineKind.AWARD, MAR_START): "1580", ("H01", LineKind.AWARD, MAR_START): "1740",
        ("H02", LineKind.AWARD, MAR_START): "1620",
        ("D07", LineKind.CLAWBACK, FEB_START): "-60",  # February corrected: 1820 − 1880
    },
}
# Every other rule's lines per run: rule -> {(payee, kind, month or quarter start): amount}.
OTHER_LINES = {
    "january": {
        "teller_excess": {("D02", LineKind.AWARD, Q1_START): "30"},
        "rank1_streak": {("D01", LineKind.AWARD, Q1_START): "200", ("D05", LineKind.AWARD, Q1_START): "200"},
    },
    "february": {
        "teller_excess": {("D06", LineKind.AWARD, FEB_START): "20"},
        "rank1_streak": {("D01", LineKind.AWARD, FEB_START): "400"},
    },
    "quarter": {
        "above_bar_time_1y": {
            ("D09", LineKind.AWARD, MAR_START): "1300",
            ("D01", LineKind.AWARD, MAR_START): "1200",
        },
        "above_bar_time_1y_3m": {("D09", LineKind.AWARD, MAR_START): "500", ("D01", LineKind.AWARD, MAR_START): "100"},
        "above_bar_short": {("D09", LineKind.AWARD, MAR_START): "250"},
        "above_bar_corp": {("D09", LineKind.AWARD, MAR_START): "80"},
        "teller_excess": {("D02", LineKind.AWARD, MAR_START): "30"},
        "head_office_bank_task": {("H01", LineKind.AWARD, Q1_START): "1000", ("H02", LineKind.AWARD, Q1_START): "1000"},
        "head_office_miss": {("H02", LineKind.PENALTY, Q1_START): "-500"},
        "above_target_per_mille": {("S5", LineKind.AWARD, Q1_START): "200"},
        "head_to_head": {
            ("S2", LineKind.AWARD, Q1_START): "1000", ("S1", LineKind.PENALTY, Q1_START): "-500",
            ("S5", LineKind.AWARD, Q1_START): "1000", ("S6", LineKind.PENALTY, Q1_START): "-500",
        },
        "completion_per_head": {
            (code, LineKind.AWARD, Q1_START): "1000" for code in ("D05", "D06", "D07", "D08", "Z02")
        },
        "completion_head": {("Z01", LineKind.AWARD, Q1_START): "2000", ("Z03", LineKind.AWARD, Q1_START): "2000"},
    },
}
# The quarter's final amount per (payee, rule): monthly pay from the table's last column, the rest
# as paid once.
FINAL = {
    **{
        (code, "monthly_pay"): total
        for code, total in {
            "D01": "7140", "D02": "3900", "D03": "4200", "D04": "4220", "D05": "7140", "D06": "4860",
            "D07": "5480", "D09": "6420", "D10": "4680", "H01": "5220", "H02": "4860",
        }.items()
    },
    ("D02", "teller_excess"): "60", ("D06", "teller_excess"): "20",
    ("D01", "rank1_streak"): "600", ("D05", "rank1_streak"): "200",
    **{
        (payee, rule): amount
        for rule, lines in OTHER_LINES["quarter"].items()
        if not rule.startswith("teller") and rule != "rank1_streak"
        for (payee, _kind, _start), amount in lines.items()
    },
}
RULES = {
    "monthly_pay": "threshold_bands", "rank1_streak": "threshold_bands", "above_bar_time_1y": "piece_rate", "above_bar_time_1y_3m": "piece_rate",
    "above_bar_short": "piece_rate", "above_bar_corp": "piece_rate",
    "teller_excess": "piece_rate",
    "head_office_task": "completion_bonus", "head_office_bank_task": "completion_bonus",
    "head_office_miss": "threshold_bands", "above_target_per_mille": "piece_rate",
    "head_to_head": "head_to_head", "completion_per_head": "completion_bonus", "completion_head": "completion_bonus",
    "new_accounts_front_desk": "piece_rate", "new_accounts_admin": "piece_rate",
}
YEAR_END = datetime.date(2027, 12, 31)
NEW_ACCOUNTS = [
    *[("D02", f"A-D02-{n}", "2027-02-01", "1000") for n in range(1, 4)],
    ("D02", "A-D02-4", "2027-03-01", "500", "2027-06-01"),
    ("D03", "A-D03-1", "2027-01-05", "2000"),
    ("D03", "A-D03-2", "2027-11-30", "100"),
    ("D03", "A-D03-3", "2028-01-02", "100"),
    ("D06", "A-D06-1", "2027-07-07", "300"),
    *[("D01", f"A-D01-{n}", "2027-04-01", "1000") for n in range(1, 6)],
]



def lines_of(run, rule_code: str) -> dict:
    return {(payee(line), line.kind, line.period_start): line.amount for line in run.lines.filter(rule__code=rule_code)}


def expect(table: dict) -> dict:
    return {key: Decimal(amount).quantize(Decimal("0.01")) for key, amount in table.items()}


def correct_balances(code: str, first: datetime.date, last: datetime.date, value: int) -> None:
    """A late correction through the facts write path: every day of [first, last] becomes ``value``."""
    indicator = Indicator.objects.get(code="STAFF_DEP_BAL").pk
    staff = Staff.objects.get(employee_no=code).pk
    outcome = merge_facts(
        rows=[
            (indicator, SubjectKind.STAFF, staff, day, Decimal(value), n)
            for n, day in enumerate(days(first, last), start=1)
        ],
        source=FactSource(kind="manual", reference=f"correction of {code}"),
    )
    assert outcome.ok, outcome.errors[:3]


def build_campaign(monthly_pay: dict | None = None, calendar: list | None = None):
    """The scoring test's bank and figures, from the template (``monthly_pay`` params changed, the
    bank's ``calendar`` days listed in the file), not recomputed."""
    head = org.create_unit(code="HO", name="总行", kind=UnitKind.HEAD_OFFICE)
    units = {code: org.create_unit(code=code, name=name, kind=kind, parent=head) for code, (name, kind) in UNITS.items()}
    hired = datetime.date(2026, 6, 1)
    for code, (unit, position, _months) in STAFF.items():
        org.hire_staff(employee_no=code, name=f"员工{code}", unit=units[unit], position=position, on=hired)
    for code, (unit, position) in EXTRA_STAFF.items():
        org.hire_staff(employee_no=code, name=f"员工{code}", unit=units[unit], position=position, on=hired)

    doc = placeholders_replaced(load_template("d-staff-deposit-assessment"))
    rules = {rule["code"]: rule for rule in doc["rewards"][0]["rules"]}
    rules["monthly_pay"]["params"].update(monthly_pay or {})
    doc["calendar"] = calendar or []
    doc["participants"] = [
        {"staff": code, "flags": sorted(flag for flag, who in FLAGS.items() if code in who)} for code in STAFF
    ]
    doc["participants"] += [{"unit": code, "groups": {"pairs": pair}} for code, (pair, *_rest) in PAIRS.items()]
    doc["targets"] = [
        {"participant": code, "metric": "deposit_avg", "period": "campaign", "target": TASK}
        for code in sorted(FLAGS["head_office"])
    ]
    doc["targets"] += [
        {"participant": code, "metric": "branch_dep_inc", "period": "campaign", "target": plan}
        for code, (_pair, _base, _end, plan) in PAIRS.items()
    ]
    campaign = import_campaign(doc, code="D-2027")

    staff = dict(Staff.objects.values_list("employee_no", "id"))
    # The months at rank 1 before the quarter: a staff fact the planner loads like any other figure
    # (the template's catalogue holds the indicator).
    indicators = dict(Indicator.objects.values_list("code", "id"))
    outcome = merge_facts(
        rows=[
            (indicators[ind], SubjectKind.STAFF, staff[code], day, value, n)
            for n, (code, ind, day, value) in enumerate(figures(), start=1)
        ]
        + [
            (indicators["BRANCH_DEP_BAL"], SubjectKind.UNIT, Unit.objects.get(code=code).pk, day, Decimal(value), 100_000 + n)
            for n, (code, (_pair, base, end, _plan)) in enumerate(PAIRS.items())
            for day, value in ((datetime.date(2026, 12, 31), base), (QUARTER_END, end))
        ]
        + [
            (indicators["RANK1_MONTHS_BEFORE"], SubjectKind.STAFF, staff[code], datetime.date(2026, 12, 31), Decimal(months), 300_000 + n)
            for n, (code, months) in enumerate(RANK1_MONTHS_BEFORE.items())
        ]
        + [
            (indicators["BRANCH_DEP_BAL"], SubjectKind.UNIT, head.pk, day, Decimal(value), 400_000 + n)
            for n, (day, value) in enumerate(BANK_DEPOSITS.items())
        ],
        source=FactSource(kind="manual", reference="rulebook D payout test data"),
    )
    assert outcome.ok, outcome.errors[:3]
    loaded = import_items([(n, dict(zip(ITEM_COLUMNS, row, strict=False))) for n, row in enumerate(DEPOSITS, start=2)])
    assert loaded.ok, loaded.errors
    return campaign


@pytest.fixture
def campaign(db):
    return build_campaign()


@pytest.fixture
def runs(campaign, finance):
    january = pay(campaign, finance, JAN_END)
    correct_balances("D10", Q1_START, JAN_END, 700_000)
    february = pay(campaign, finance, FEB_END)
    correct_balances("D07", FEB_START, FEB_END, 1_400_000)
    quarter = pay(campaign, finance, QUARTER_END, kind=PeriodKind.QUARTER, start=Q1_START)
    return {"january": january, "february": february, "quarter": quarter}


def test_template_d_carries_every_expressible_pay_rule(campaign):
    scheme = RewardScheme.objects.get(campaign_code=campaign.code)
    assert scheme.code == "D-2027-main"
    assert dict(scheme.rules.values_list("code", "kind")) == RULES


@pytest.mark.parametrize("name", ["january", "february", "quarter"])
def test_monthly_pay_each_month_on_its_own_daily_average_with_late_corrections(runs, name):
    assert lines_of(runs[name], "monthly_pay") == expect(MONTHLY_PAY[name])


@pytest.mark.parametrize("name", ["january", "february", "quarter"])
def test_every_other_rule_pays_only_what_the_run_owes(runs, name):
    run = runs[name]
    got = {rule: lines_of(run, rule) for rule in RULES if rule != "monthly_pay"}
    assert {rule: lines for rule, lines in got.items() if lines} == {
        rule: expect(lines) for rule, lines in OTHER_LINES[name].items()
    }


def test_corrections_reference_the_line_they_correct(runs):
    true_up = runs["february"].lines.get(rule__code="monthly_pay", employee_no="D10", period_start=Q1_START)
    assert true_up.adjusts == runs["january"].lines.get(rule__code="monthly_pay", employee_no="D10")
    clawback = runs["quarter"].lines.get(rule__code="monthly_pay", employee_no="D07", period_start=FEB_START)
    assert clawback.adjusts == runs["february"].lines.get(
        rule__code="monthly_pay", employee_no="D07", period_start=FEB_START
    )


def test_monthly_lines_plus_adjustments_add_up_to_the_quarter_final_for_every_payee(runs):
    totals = paid_per_payee_and_rule(runs.values())
    assert totals == {key: Decimal(value) for key, value in FINAL.items()}


def test_runs_are_locked_with_four_eyes(runs, finance):
    for run in runs.values():
        assert run.state == "locked"
        assert run.created_by == finance["maker"] and run.approved_by == finance["checker"]


def test_early_withdrawal_of_a_rewarded_time_deposit_is_clawed_back_in_a_correction_run(
    runs, campaign, finance
):
    indicators = dict(Indicator.objects.values_list("code", "id"))
    d09 = Staff.objects.get(employee_no="D09").pk
    withdrawn = list(days(datetime.date(2027, 3, 17), QUARTER_END))
    outcome = merge_facts(
        rows=[
            (indicators[code], SubjectKind.STAFF, d09, day, Decimal(value), n)
            for n, (day, (code, value)) in enumerate(
                (day, item)
                for day in withdrawn
                for item in (("STAFF_DEP_TIME_1Y", 1_880_000), ("STAFF_DEP_BAL", 3_380_000))
            )
        ],
        source=FactSource(kind="manual", reference="D09 early withdrawal"),
    )
    assert outcome.ok, outcome.errors[:3]
    withdrawn_deposit = ("D09", "STAFF_DEP_TIME_1Y", "D09-T4", "2027-03-01", 620_000, "2027-03-17")
    assert import_items([(2, dict(zip(ITEM_COLUMNS, withdrawn_deposit, strict=True)))]).ok
    correction = pay(campaign, finance, QUARTER_END, kind=PeriodKind.CORRECTION, start=Q1_START)
    got = {
        (line.rule.code, payee(line), line.kind): line.amount for line in correction.lines.select_related("rule")
    }
    assert got == {
        ("above_bar_time_1y", "D09", LineKind.CLAWBACK): Decimal("-620.00"),
        ("above_bar_time_1y_3m", "D09", LineKind.CLAWBACK): Decimal("-310.00"),
    }
    for line in correction.lines.all():
        assert line.adjusts.run == runs["quarter"]
    totals = dict(
        PayoutLine.objects.filter(employee_no="D09", rule__code__startswith="above_bar")
        .values_list("rule__code")
        .annotate(total=Sum("amount"))
    )
    assert totals == {
        "above_bar_time_1y": Decimal("680"),
        "above_bar_time_1y_3m": Decimal("190"),
        "above_bar_short": Decimal("250"),
        "above_bar_corp": Decimal("80"),
    }


def test_rank_1_of_the_month_is_paid_in_full_and_everyone_else_the_others_share(db, finance):
    campaign = build_campaign({"others_share": "0.9"})
    january = pay(campaign, finance, JAN_END)
    assert lines_of(january, "monthly_pay") == expect(
        {
            (code, LineKind.AWARD, Q1_START): amount
            for code, amount in {
                "D01": "2380", "D05": "2380", "D02": "1170", "D03": "1260", "D04": "1314", "D06": "1422",
                "D07": "1584", "D09": "1494", "D10": "1350", "H01": "1566", "H02": "1458",
            }.items()
        }
    )


def test_a_rank_streak_reaching_back_before_the_quarter_raises_pay_and_losing_rank_1_ends_it(runs):
    streak = {
        name: {(payee, start): amount for (payee, _kind, start), amount in lines_of(run, "rank1_streak").items()}
        for name, run in runs.items()
    }
    assert streak == {
        "january": {("D01", Q1_START): Decimal("200.00"), ("D05", Q1_START): Decimal("200.00")},
        "february": {("D01", FEB_START): Decimal("400.00")},
        "quarter": {},  # D01 lost rank 1 in March; D09's first month at rank 1 is no streak
    }


BANK_CALENDAR = [
    {"date": "2027-01-01", "working": False, "name": "元旦"},
    {"date": "2027-02-06", "working": False, "name": "春节"},  # a Saturday: no working day lost
    {"date": "2027-02-08", "working": False, "name": "春节"},
    {"date": "2027-02-09", "working": False, "name": "春节"},
    {"date": "2027-02-10", "working": False, "name": "春节"},
    {"date": "2027-02-20", "working": True, "name": "春节调休上班"},
]


def test_the_tellers_bar_is_50_times_the_working_days_of_the_banks_calendar_each_month(db, finance):
    campaign = build_campaign(calendar=BANK_CALENDAR)
    paid = {}
    for end in (JAN_END, FEB_END):
        paid.update(lines_of(pay(campaign, finance, end), "teller_excess"))
    paid.update(lines_of(pay(campaign, finance, QUARTER_END, kind=PeriodKind.QUARTER, start=Q1_START), "teller_excess"))
    # January 20 working days (bar 1,000), February 18 (900), March 23 (1,150): see the docstring.
    assert paid == expect(
        {
            ("D02", LineKind.AWARD, Q1_START): "40",
            ("D02", LineKind.AWARD, FEB_START): "20",
            ("D06", LineKind.AWARD, FEB_START): "40",
            ("D02", LineKind.AWARD, MAR_START): "30",
        }
    )
    line = PayoutLine.objects.get(rule__code="teller_excess", employee_no="D06", period_start=FEB_START)
    assert (Decimal(line.figures["figure"]), Decimal(line.figures["above"])) == (1100, 900)


def test_new_active_accounts_pay_tellers_and_administrative_staff_3_yuan_each_at_year_end(runs, campaign, finance):
    from rewards import services
    from scoring.services import set_flag

    set_flag(participant=campaign.participants.get(staff__employee_no="D06"), code="administrative")
    columns = ("staff", "item_no", "date", "amount", "end_date")
    loaded = import_items(
        [(n, {"kind": "NEW_ACCOUNT", **dict(zip(columns, row, strict=False))}) for n, row in enumerate(NEW_ACCOUNTS, start=2)]
    )
    assert loaded.ok, loaded.errors
    assert not PayoutLine.objects.filter(rule__code__startswith="new_accounts").exists()  # not in the quarter

    # The campaign's scores end with the quarter: the year-end rules read facts and flags only.
    run = services.create_payout_run(
        scheme=RewardScheme.objects.get(campaign_code=campaign.code),
        period_kind=PeriodKind.MONTH,
        period_start=datetime.date(2027, 12, 1),
        period_end=YEAR_END,
        by=finance["maker"],
    )
    assert {(payee(line), line.rule.code, line.amount) for line in run.lines.select_related("rule")} == {
        ("D02", "new_accounts_front_desk", Decimal("9.00")),
        ("D03", "new_accounts_admin", Decimal("6.00")),
        ("D06", "new_accounts_front_desk", Decimal("3.00")),
    }
    assert run.lines.get(employee_no="D02").formula == "3 × ⌊3 ÷ 1⌋"


def test_others_share_decided_a_few_subjects_at_a_time_pays_the_same(db, finance, monkeypatch):
    from rewards import calculate, rule_base

    monkeypatch.setattr(calculate, "CHUNK", 3)
    monkeypatch.setattr(rule_base, "SHARE_CHUNK", 2)
    campaign = build_campaign({"others_share": "0.9"})
    january = pay(campaign, finance, JAN_END)
    assert lines_of(january, "monthly_pay") == expect(
        {
            (code, LineKind.AWARD, Q1_START): amount
            for code, amount in {
                "D01": "2380", "D05": "2380", "D02": "1170", "D03": "1260", "D04": "1314", "D06": "1422",
                "D07": "1584", "D09": "1494", "D10": "1350", "H01": "1566", "H02": "1458",
            }.items()
        }
    )
