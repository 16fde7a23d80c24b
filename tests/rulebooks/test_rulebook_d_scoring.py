"""Rulebook D (every employee's deposit assessment), scored from the built-in template on twelve staff.

Every expected figure below is worked out by hand from the tables here. The test loads the
template, lists the twelve employees with their planner flags, gives the two head-office employees
their task (target of ``deposit_avg``: a quarter daily average of 1,000,000), loads a balance for
every calendar day of the quarter through the facts write path and recomputes 31 January, 14
February (mid-month: February to date), 28 February and 31 March 2027.

Organisation: head office HO → sub-branches S1, S2, S3 and the head-office departments HOD.
Flags: front_desk D02, D06; administrative D03; head_office H01, H02; probation D02 (flagged only).

Score: each month, 100 × the month's daily average ÷ the bank's best that month; the board shows
the current month (month to date). Daily averages are over calendar days (Jan 31, Feb 28, Mar 31).

Daily balances (yuan) and each month's daily average:

staff  unit  January                      February                         March      quarter avg
D01    S1    2,500,000                    2,800,000 1–14, 3,600,000 15–28  3,200,000  266.3M/90 = 2,958,888.9
              → 2,500,000                  → 3,200,000 (14 Feb: 2,800,000)
D02    S1      320,000                      300,000                          310,000  27.93M/90 = 310,333.3
D03    S1    400,000 1–16, 369,000 17–31      360,000                          360,000  33.175M/90 = 368,611.1
              → 11,935,000 / 31 = 385,000
D04    S1      500,000                    350,000 1–27, 349,986 on 28       500,000  40,799,986/90 = 453,333.2
                                           → 9,799,986 / 28 = 349,999.5 (not rounded; 14 Feb: 350,000)
D05    S2    2,500,000                    3,000,000                       2,000,000  223.5M/90 = 2,483,333.3
D06    S2      800,000                      900,000                       1,000,000  81M/90 = 900,000
D07    S2    1,250,000                    1,550,000                       1,600,000  131.75M/90 = 1,463,888.9
D08    S2    — no figures at all —
D09    S3    1,000,000                    2,000,000                       4,000,000  211M/90 = 2,344,444.4
D10    S3      625,000                      775,000                         800,000  65.875M/90 = 731,944.4
H01    HOD   1,200,000 every day                                                     1,200,000 (task 1,000,000: 120 %)
H02    HOD     900,000 every day                                                       900,000 (task 1,000,000: 90 %)

Points (100 × own ÷ month's best) and whole-bank rank (competition: 1, 1, 3):

staff  31 Jan (best 2.5M)  14 Feb (best 3.0M)  28 Feb (best 3.2M)  31 Mar (best 4.0M)  S-b rank 31 Mar
D01    100      1          93.3333   2         100       1         80     2            S1 1
D02     12.8   11          10       11           9.375  11           7.75 11           S1 4
D03     15.4   10          12        9          11.25    9           9    10           S1 3
D04     20      9          11.6667  10          10.9375 10          12.5   9           S1 2
D05    100      1         100        1          93.75    2          50     3           S2 1
D06     32      7          30        6          28.125   6          25     6           S2 3
D07     50      3          51.6667   4          48.4375  4          40     4           S2 2
D08      0      —           0        —           0       —           0     —           S2 —  (no figures: off the boards)
D09     40      5          66.6667   3          62.5     3         100     1           S3 1
D10     25      8          25.8333   8          24.2188  8          20     8           S3 2
H01     48      4          40        5          37.5     5          30     5           HOD 1
H02     36      6          30        6          28.125   6          22.5   7           HOD 2

Rank 1 of each month (the streak input): January D01 and D05 (tied), February D01 (on 14 February
D05 leads February to date), March D09. D01 holds rank 1 two months in a row (January, February).

Quarter daily-average board on 31 March: D01 1, D05 2, D09 3, D07 4, H01 5, D06 6, H02 6 (both
900,000), D10 8, D04 9, D03 10, D02 11; D08 (no figures) is absent.

D09's deposits by kind (time ≥ 1 year / 3-6-month and demand / corporate): January 600,000 /
300,000 / 100,000, February 1,200,000 / 500,000 / 300,000, March 2,500,000 / 1,000,000 / 500,000;
the kinds' quarter daily averages add up to the total's (211M/90).

Teller transactions (quarter): D02 3,500, D06 3,000 (front desk), D01 5,000 (not front desk: off
the teller board); each month's own count is stored (monthly_figures) although no rule scores it.
New active accounts delivered on 31 March: D03 12, D02 5.

Head-to-head (对手赛), in the same campaign: six sub-branches S1–S6 as units, in three pairs, on
the completion of their deposit-increase plan (balance 31 March − balance 31 December):

pair   sub-branch  31 Dec       31 Mar       increase     plan        completion  pair rank
PAIR1  S1          10,000,000   12,000,000   2,000,000    2,500,000   80 %        2 (missed: pays 500)
PAIR1  S2           8,000,000    9,500,000   1,500,000    1,500,000   100 %       1
PAIR2  S3           5,000,000    5,900,000     900,000    1,000,000   90 %        1 (draw)
PAIR2  S4           6,000,000    7,800,000   1,800,000    2,000,000   90 %        1 (draw)
PAIR3  S5           4,000,000    5,200,000   1,200,000    1,000,000   120 %       1
PAIR3  S6           3,000,000    2,900,000    −100,000    1,000,000   −10 %       2
The sub-branches score no points and appear on no employee board.
"""

import datetime
from decimal import ROUND_HALF_UP, Decimal

import pytest

from branches import services as org
from branches.facts import FactSource, merge_facts
from branches.models import Indicator, Position, Staff, SubjectKind, UnitKind
from campaigns.campaign_file import import_campaign, load_template
from campaigns.models import GroupMembership, Participant
from scoring import engine
from scoring.models import MetricResult, ParticipantResult, RankEntry, Ranking, RuleScore

JAN_END = datetime.date(2027, 1, 31)
MID_FEB = datetime.date(2027, 2, 14)
FEB_END = datetime.date(2027, 2, 28)
QUARTER_END = datetime.date(2027, 3, 31)
MONTHS = [
    (datetime.date(2027, 1, 1), JAN_END),
    (datetime.date(2027, 2, 1), FEB_END),
    (datetime.date(2027, 3, 1), QUARTER_END),
]
TASK = 1_000_000

UNITS = {"S1": ("一支行", UnitKind.BRANCH), "S2": ("二支行", UnitKind.BRANCH), "S3": ("三支行", UnitKind.BRANCH),
         "S4": ("四支行", UnitKind.BRANCH), "S5": ("五支行", UnitKind.BRANCH), "S6": ("六支行", UnitKind.BRANCH),
         "HOD": ("总行部室", UnitKind.DEPARTMENT)}
# sub-branch: (pair, balance 31 Dec, balance 31 Mar, plan of the increase)
PAIRS = {
    "S1": ("PAIR1", 10_000_000, 12_000_000, 2_500_000), "S2": ("PAIR1", 8_000_000, 9_500_000, 1_500_000),
    "S3": ("PAIR2", 5_000_000, 5_900_000, 1_000_000), "S4": ("PAIR2", 6_000_000, 7_800_000, 2_000_000),
    "S5": ("PAIR3", 4_000_000, 5_200_000, 1_000_000), "S6": ("PAIR3", 3_000_000, 2_900_000, 1_000_000),
}

# code: (unit, position, each month's daily balances as [(first day, last day, value)] or a constant)
STAFF = {
    "D01": ("S1", Position.ACCOUNT_MANAGER, (2_500_000, [(1, 14, 2_800_000), (15, 28, 3_600_000)], 3_200_000)),
    "D02": ("S1", Position.TELLER, (320_000, 300_000, 310_000)),
    "D03": ("S1", Position.ADMINISTRATIVE, ([(1, 16, 400_000), (17, 31, 369_000)], 360_000, 360_000)),
    "D04": ("S1", Position.ACCOUNT_MANAGER, (500_000, [(1, 27, 350_000), (28, 28, 349_986)], 500_000)),
    "D05": ("S2", Position.ACCOUNT_MANAGER, (2_500_000, 3_000_000, 2_000_000)),
    "D06": ("S2", Position.TELLER, (800_000, 900_000, 1_000_000)),
    "D07": ("S2", Position.ACCOUNT_MANAGER, (1_250_000, 1_550_000, 1_600_000)),
    "D08": ("S2", Position.ACCOUNT_MANAGER, None),
    "D09": ("S3", Position.ACCOUNT_MANAGER, (1_000_000, 2_000_000, 4_000_000)),
    "D10": ("S3", Position.STAFF, (625_000, 775_000, 800_000)),
    "H01": ("HOD", Position.STAFF, (1_200_000, 1_200_000, 1_200_000)),
    "H02": ("HOD", Position.STAFF, (900_000, 900_000, 900_000)),
}

FLAGS = {
    "front_desk": {"D02", "D06"},
    "administrative": {"D03"},
    "head_office": {"H01", "H02"},
    "probation": {"D02"},
}

# D09's deposits by kind each month: (time ≥ 1 year, 3-6-month time and demand, corporate).
D09_KINDS = ((600_000, 300_000, 100_000), (1_200_000, 500_000, 300_000), (2_500_000, 1_000_000, 500_000))
KIND_INDICATORS = ("STAFF_DEP_TIME_1Y", "STAFF_DEP_SHORT", "STAFF_DEP_CORP")

# Teller transactions, one row on the last day of each month.
TELLER = {"D02": (1_200, 1_000, 1_300), "D06": (900, 1_100, 1_000), "D01": (2_000, 1_500, 1_500)}
NEW_ACCOUNTS = {"D03": 12, "D02": 5}


def days(first: datetime.date, last: datetime.date):
    day = first
    while day <= last:
        yield day
        day += datetime.timedelta(days=1)


def daily_balances(months) -> list[tuple[datetime.date, Decimal]]:
    rows = []
    for (first, last), spec in zip(MONTHS, months, strict=True):
        segments = spec if isinstance(spec, list) else [(1, last.day, spec)]
        for start, end, value in segments:
            rows += [(day, Decimal(value)) for day in days(first.replace(day=start), first.replace(day=end))]
        assert len([d for d, _v in rows if first <= d <= last]) == last.day  # every calendar day
    return rows


def figures() -> list[tuple[str, str, datetime.date, Decimal]]:
    rows = []
    for code, (_unit, _position, months) in STAFF.items():
        if months is not None:
            rows += [(code, "STAFF_DEP_BAL", day, value) for day, value in daily_balances(months)]
    for indicator, kind_months in zip(KIND_INDICATORS, zip(*D09_KINDS, strict=True), strict=True):
        rows += [("D09", indicator, day, value) for day, value in daily_balances(kind_months)]
    for code, counts in TELLER.items():
        rows += [(code, "TELLER_TXN", last, Decimal(n)) for (_first, last), n in zip(MONTHS, counts, strict=True)]
    rows += [(code, "NEW_ACTIVE_ACCOUNTS", QUARTER_END, Decimal(n)) for code, n in NEW_ACCOUNTS.items()]
    return rows


def build_rulebook_d(edit=None):
    """The bank, the template with the employees, sub-branches, flags and tasks (``edit(doc)``
    changes the loaded file first, as a planner edits it), the quarter's daily figures; recomputes
    31 January, 14 February, 28 February and 31 March. Returns (campaign, {day: result set})."""
    head = org.create_unit(code="HO", name="总行", kind=UnitKind.HEAD_OFFICE)
    units = {code: org.create_unit(code=code, name=name, kind=kind, parent=head) for code, (name, kind) in UNITS.items()}
    hired = datetime.date(2026, 6, 1)
    for code, (unit, position, _months) in STAFF.items():
        org.hire_staff(employee_no=code, name=f"员工{code}", unit=units[unit], position=position, on=hired)

    doc = load_template("d-staff-deposit-assessment")
    assert not doc.get("participants") and not doc.get("targets")  # the planner adds them
    doc["participants"] = [
        {"staff": code, "flags": sorted(flag for flag, who in FLAGS.items() if code in who)} for code in STAFF
    ]
    doc["participants"] += [{"unit": code, "groups": {"pairs": pair}} for code, (pair, *_rest) in PAIRS.items()]
    doc["targets"] = [
        {"participant": code, "metric": "deposit_avg", "period": "campaign", "target": TASK} for code in sorted(FLAGS["head_office"])
    ]
    doc["targets"] += [
        {"participant": code, "metric": "branch_dep_inc", "period": "campaign", "target": plan}
        for code, (_pair, _base, _end, plan) in PAIRS.items()
    ]
    if edit is not None:
        edit(doc)
    campaign = import_campaign(doc, code="D-2027")

    staff = dict(Staff.objects.values_list("employee_no", "id"))
    indicators = dict(Indicator.objects.values_list("code", "id"))
    outcome = merge_facts(
        rows=[
            (indicators[ind], SubjectKind.STAFF, staff[code], day, value, n)
            for n, (code, ind, day, value) in enumerate(figures(), start=1)
        ]
        + [
            (indicators["BRANCH_DEP_BAL"], SubjectKind.UNIT, units[code].pk, day, Decimal(value), 100_000 + n)
            for n, (code, (_pair, base, end, _plan)) in enumerate(PAIRS.items())
            for day, value in ((datetime.date(2026, 12, 31), base), (QUARTER_END, end))
        ],
        source=FactSource(kind="manual", reference="rulebook D test data"),
    )
    assert outcome.ok, outcome.errors[:3]
    boards = {day: engine.recompute(campaign.pk, day) for day in (JAN_END, MID_FEB, FEB_END, QUARTER_END)}
    return campaign, boards


@pytest.fixture
def rulebook_d(db):
    return build_rulebook_d()


def code_of_participant() -> dict[int, str]:
    """Employee number of an employee, unit code of a sub-branch."""
    return {pid: staff or unit for pid, staff, unit in Participant.objects.values_list("id", "staff__employee_no", "unit__code")}


def by_code(queryset, field) -> dict:
    codes = code_of_participant()
    return {codes[row["participant_id"]]: row[field] for row in queryset.values("participant_id", field)}


def board(campaign, result_set, code) -> dict[str, int]:
    ranking = Ranking.objects.get(campaign=campaign, code=code)
    ranks = by_code(RankEntry.objects.filter(result_set_id=result_set.pk, ranking_id=ranking.pk), "rank")
    return dict(sorted(ranks.items(), key=lambda item: (item[1], item[0])))


def winners(campaign, result_set, code) -> set[str]:
    ranking = Ranking.objects.get(campaign=campaign, code=code)
    return set(by_code(RankEntry.objects.filter(result_set_id=result_set.pk, ranking_id=ranking.pk, in_top=True), "rank"))


def q4(value) -> Decimal:
    return Decimal(value).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


def points(result_set) -> dict[str, Decimal]:
    totals = by_code(ParticipantResult.objects.filter(result_set_id=result_set.pk), "total_points")
    return {code: q4(value) for code, value in totals.items() if code in STAFF}


def month_points(campaign, result_set, month_start: datetime.date) -> dict[str, Decimal]:
    rule = campaign.rules.get(code="month_lead")
    rows = RuleScore.objects.filter(result_set_id=result_set.pk, rule_id=rule.pk, monthly=True, period_start=month_start)
    return {code: q4(value) for code, value in by_code(rows, "points").items()}


def figure(campaign, result_set, metric_code, *, month: datetime.date | None = None, field="actual") -> dict:
    metric = campaign.metrics.get(code=metric_code)
    rows = MetricResult.objects.filter(result_set_id=result_set.pk, metric_id=metric.pk, monthly=month is not None)
    if month is not None:
        rows = rows.filter(period_start=month)
    return by_code(rows, field)


def expected(table: dict[str, str | int]) -> dict[str, Decimal]:
    return {code: q4(Decimal(str(value))) for code, value in table.items()}


# --- Configuration -----------------------------------------------------------------------------


def test_template_is_a_mixed_campaign_scored_on_the_months_share_of_the_best(rulebook_d):
    campaign, _boards = rulebook_d
    assert campaign.participant_level == "mixed"
    assert campaign.phases.count() == 0  # month by month, no phase shares
    rules = list(campaign.rules.values_list("code", "kind", "points", "evaluation", "monthly_combine", "params"))
    assert rules == [("month_lead", "relative_to_best", Decimal(100), "monthly", "last", {"on": "figure", "cap": 1})]
    assert campaign.participants.count() == 12 + 6
    assert campaign.gates.count() == 0  # probation is a flag in the report, not a veto


def test_open_points_are_recorded_with_their_defaults(rulebook_d):
    campaign, _boards = rulebook_d
    assert campaign.options == {
        "flags": ["front_desk", "administrative", "head_office"],
        "silent_band_pay": "1300",
        "step_mode": "full_steps",
        "top_band_rule": "freeze_plus_400",
        "others_share_of_assessment": "1",
        "rank1_ties": "all_tied_rank1",
        "probation_rate": "flagged_only",
        "months_before_quarter": "planner_input",
        "per_10000_mode": "proportional",
        "above_bar_order": "deposit_date_oldest_first",
        "clawback_scope": "time_1y_only",
        "teller_daily_threshold": 50,
        "teller_days": "bank_working_days",
        "teller_carry_over": False,
        "head_office_task_metric": "deposit_avg",
        "head_office_bank_task": "replaces",
        "head_to_head_basis": "completion",
        "head_to_head_draw": "nothing",
        "completion_bonus_head": "replaces",
        "completion_bonus_mode": "per_head",
        "headcount_day": "last_day",
        "daily_average_days": "calendar",
        "daily_average_rounding": "none",
        "met_all_covers_bonus": False,
        "monthly_figures": ["time_1y_avg", "short_avg", "corp_avg", "teller_txn"],
    }
    # Ties for rank 1 are carried by the ranking itself: competition ranks, everyone at rank 1 wins.
    rank1 = Ranking.objects.get(campaign=campaign, code="month_rank1")
    assert (rank1.tie_break, rank1.top_n, rank1.group_set_id) == ("competition", 1, None)


def test_staff_are_grouped_by_their_sub_branch(rulebook_d):
    campaign, _boards = rulebook_d
    codes = code_of_participant()
    groups = {
        codes[pid]: group
        for pid, group in GroupMembership.objects.filter(participant__campaign=campaign, group_set__code="sub_branch")
        .values_list("participant_id", "group__code")
    }
    assert {code: group for code, group in groups.items() if code in STAFF} == {code: unit for code, (unit, *_rest) in STAFF.items()}


# --- Daily averages -------------------------------------------------------------------------------


def test_monthly_daily_average_is_over_calendar_days_and_not_rounded(rulebook_d):
    campaign, boards = rulebook_d
    quarter = boards[QUARTER_END]
    january = figure(campaign, quarter, "deposit_avg", month=datetime.date(2027, 1, 1))
    february = figure(campaign, quarter, "deposit_avg", month=datetime.date(2027, 2, 1))
    assert january["D03"] == Decimal("385000")  # 11,935,000 ÷ 31 calendar days
    assert february["D04"] == Decimal("349999.5")  # 9,799,986 ÷ 28: stays below 350,000
    assert february["D01"] == Decimal("3200000")
    assert january["D08"] is None


def test_mid_month_figure_is_the_month_to_date_average(rulebook_d):
    campaign, boards = rulebook_d
    february = figure(campaign, boards[MID_FEB], "deposit_avg", month=datetime.date(2027, 2, 1))
    assert (february["D01"], february["D04"], february["D05"]) == (Decimal(2_800_000), Decimal(350_000), Decimal(3_000_000))


def test_quarter_daily_average_board_ties_equal_averages_and_leaves_out_staff_without_figures(rulebook_d):
    campaign, boards = rulebook_d
    quarter = boards[QUARTER_END]
    assert board(campaign, quarter, "quarter_avg") == {
        "D01": 1, "D05": 2, "D09": 3, "D07": 4, "H01": 5, "D06": 6, "H02": 6,
        "D10": 8, "D04": 9, "D03": 10, "D02": 11,
    }
    averages = figure(campaign, quarter, "deposit_avg")
    assert (averages["D06"], averages["H02"]) == (Decimal(900_000), Decimal(900_000))  # 81,000,000 ÷ 90
    assert averages["D08"] is None


def test_deposit_kinds_add_up_to_the_total_daily_average(rulebook_d):
    campaign, boards = rulebook_d
    quarter = boards[QUARTER_END]
    kinds = [figure(campaign, quarter, code)["D09"] for code in ("time_1y_avg", "short_avg", "corp_avg")]
    cent = Decimal("0.01")
    assert [k.quantize(cent, rounding=ROUND_HALF_UP) for k in kinds] == [Decimal("1441111.11"), Decimal("603333.33"), Decimal("300000.00")]
    assert sum(kinds).quantize(cent, rounding=ROUND_HALF_UP) == figure(campaign, quarter, "deposit_avg")["D09"].quantize(cent)


# --- The month's share of the best and rank 1 -----------------------------------------------------


def test_score_is_the_months_share_of_the_banks_best_this_month(rulebook_d):
    _campaign, boards = rulebook_d
    assert points(boards[JAN_END]) == expected({
        "D01": 100, "D02": "12.8", "D03": "15.4", "D04": 20, "D05": 100, "D06": 32,
        "D07": 50, "D08": 0, "D09": 40, "D10": 25, "H01": 48, "H02": 36,
    })
    assert points(boards[FEB_END]) == expected({
        "D01": 100, "D02": "9.375", "D03": "11.25", "D04": "10.9375", "D05": "93.75", "D06": "28.125",
        "D07": "48.4375", "D08": 0, "D09": "62.5", "D10": "24.21875", "H01": "37.5", "H02": "28.125",
    })


def test_quarter_end_score_is_marchs_own_not_the_quarters(rulebook_d):
    _campaign, boards = rulebook_d
    assert points(boards[QUARTER_END]) == expected({
        "D01": 80, "D02": "7.75", "D03": 9, "D04": "12.5", "D05": 50, "D06": 25,
        "D07": 40, "D08": 0, "D09": 100, "D10": 20, "H01": 30, "H02": "22.5",
    })


def test_ties_for_rank_one_all_count_as_rank_one(rulebook_d):
    campaign, boards = rulebook_d
    assert board(campaign, boards[JAN_END], "month_rank1") == {
        "D01": 1, "D05": 1, "D07": 3, "H01": 4, "D09": 5, "H02": 6,
        "D06": 7, "D10": 8, "D04": 9, "D03": 10, "D02": 11,
    }
    assert winners(campaign, boards[JAN_END], "month_rank1") == {"D01", "D05"}


def test_each_months_rank_one_is_read_on_that_months_own_figures(rulebook_d):
    campaign, boards = rulebook_d
    assert board(campaign, boards[MID_FEB], "month_rank1") == {
        "D05": 1, "D01": 2, "D09": 3, "D07": 4, "H01": 5, "D06": 6, "H02": 6,
        "D10": 8, "D03": 9, "D04": 10, "D02": 11,
    }
    assert winners(campaign, boards[MID_FEB], "month_rank1") == {"D05"}  # February to date
    assert board(campaign, boards[FEB_END], "month_rank1") == {
        "D01": 1, "D05": 2, "D09": 3, "D07": 4, "H01": 5, "D06": 6, "H02": 6,
        "D10": 8, "D03": 9, "D04": 10, "D02": 11,
    }
    assert winners(campaign, boards[FEB_END], "month_rank1") == {"D01"}
    assert board(campaign, boards[QUARTER_END], "month_rank1") == {
        "D09": 1, "D01": 2, "D05": 3, "D07": 4, "H01": 5, "D06": 6, "H02": 7,
        "D10": 8, "D04": 9, "D03": 10, "D02": 11,
    }
    assert winners(campaign, boards[QUARTER_END], "month_rank1") == {"D09"}


def test_one_yuan_below_the_best_is_not_rank_one(rulebook_d):
    """The points are stored to 4 decimals (100 × 3,999,999 ÷ 4,000,000 = 99.999975 → 100.0000);
    the board ranks the month's daily average itself, so a 1-yuan gap still decides rank 1."""
    campaign, _boards = rulebook_d
    indicator = Indicator.objects.get(code="STAFF_DEP_BAL").pk
    d01 = Staff.objects.get(employee_no="D01").pk
    march, march_end = MONTHS[2]
    outcome = merge_facts(
        rows=[
            (indicator, SubjectKind.STAFF, d01, day, Decimal(3_999_999), n)
            for n, day in enumerate(days(march, march_end), start=1)
        ],
        source=FactSource(kind="manual", reference="D01 one yuan below D09 in March"),
    )
    assert outcome.ok, outcome.errors[:3]
    quarter = engine.recompute(campaign.pk, QUARTER_END)
    assert month_points(campaign, quarter, march)["D01"] == q4(100)  # the rounded points tie …
    assert board(campaign, quarter, "month_rank1")["D01"] == 2  # … the board does not
    assert winners(campaign, quarter, "month_rank1") == {"D09"}
    assert board(campaign, quarter, "month_by_sub_branch")["D01"] == 1  # S1's best, D09 is S3's


def test_quarter_end_keeps_every_months_scores_for_the_rank_streaks(rulebook_d):
    campaign, boards = rulebook_d
    quarter = boards[QUARTER_END]
    leaders = {
        month: {code for code, value in month_points(campaign, quarter, month).items() if value == 100}
        for month, _last in MONTHS
    }
    assert leaders == {
        datetime.date(2027, 1, 1): {"D01", "D05"},
        datetime.date(2027, 2, 1): {"D01"},  # D01: rank 1 two months in a row
        datetime.date(2027, 3, 1): {"D09"},  # … and loses it in March
    }
    assert month_points(campaign, quarter, datetime.date(2027, 2, 1))["D05"] == q4("93.75")


def test_probation_is_only_a_flag(rulebook_d):
    campaign, boards = rulebook_d
    quarter = boards[QUARTER_END]
    assert points(quarter)["D02"] == q4("7.75")  # the same share of the best as without the flag
    assert board(campaign, quarter, "month_rank1")["D02"] == 11
    assert not ParticipantResult.objects.get(
        result_set_id=quarter.pk, participant_id=campaign.participants.get(staff__employee_no="D02").pk
    ).vetoed


def test_staff_are_ranked_within_their_sub_branch(rulebook_d):
    campaign, boards = rulebook_d
    assert board(campaign, boards[QUARTER_END], "month_by_sub_branch") == {
        "D01": 1, "D05": 1, "D09": 1, "H01": 1,
        "D04": 2, "D07": 2, "D10": 2, "H02": 2,
        "D03": 3, "D06": 3,
        "D02": 4,
    }


# --- Head-office task, tellers, accounts ---------------------------------------------------------------


def test_head_office_staff_are_measured_against_their_task(rulebook_d):
    campaign, boards = rulebook_d
    quarter = boards[QUARTER_END]
    completion = figure(campaign, quarter, "deposit_avg", field="completion")
    assert (completion["H01"], completion["H02"]) == (Decimal("1.2"), Decimal("0.9"))
    assert board(campaign, quarter, "head_office_task") == {"H01": 1, "H02": 2}
    met = by_code(ParticipantResult.objects.filter(result_set_id=quarter.pk), "met_all_targets")
    assert (met["H01"], met["H02"]) == (True, False)


def test_teller_board_ranks_front_desk_tellers_only(rulebook_d):
    campaign, boards = rulebook_d
    quarter = boards[QUARTER_END]
    assert board(campaign, quarter, "teller_txn") == {"D02": 1, "D06": 2}
    transactions = figure(campaign, quarter, "teller_txn")
    assert (transactions["D02"], transactions["D06"], transactions["D01"]) == (3_500, 3_000, 5_000)


def test_new_active_accounts_are_read_as_delivered(rulebook_d):
    campaign, boards = rulebook_d
    accounts = figure(campaign, boards[QUARTER_END], "new_accounts")
    assert (accounts["D03"], accounts["D02"], accounts["D01"]) == (12, 5, None)


# --- Head-to-head (sub-branches in the same campaign) -------------------------------------------------


def test_head_to_head_ranks_each_pair_on_plan_completion_and_a_tie_is_a_draw(rulebook_d):
    campaign, boards = rulebook_d
    quarter = boards[QUARTER_END]
    assert board(campaign, quarter, "head_to_head") == {"S2": 1, "S3": 1, "S4": 1, "S5": 1, "S1": 2, "S6": 2}
    completion = figure(campaign, quarter, "branch_dep_inc", field="completion")
    assert {code: q4(completion[code]) for code in PAIRS} == expected(
        {"S1": "0.8", "S2": "1", "S3": "0.9", "S4": "0.9", "S5": "1.2", "S6": "-0.1"}
    )


def test_sub_branches_score_nothing_and_stay_off_the_employee_boards(rulebook_d):
    campaign, boards = rulebook_d
    quarter = boards[QUARTER_END]
    totals = by_code(ParticipantResult.objects.filter(result_set_id=quarter.pk), "total_points")
    assert {code: totals[code] for code in PAIRS} == dict.fromkeys(PAIRS, 0)
    for code in ("month_rank1", "month_by_sub_branch", "quarter_avg", "head_office_task", "teller_txn"):
        assert not set(board(campaign, quarter, code)) & set(PAIRS), code


def test_each_months_teller_count_is_stored_without_a_rule(rulebook_d):
    campaign, boards = rulebook_d
    quarter = boards[QUARTER_END]
    by_month = [figure(campaign, quarter, "teller_txn", month=first)["D02"] for first, _last in MONTHS]
    assert by_month == [1_200, 1_000, 1_300]
