"""Rulebook C (insurer's individual-agent channel): the built-in template's rewards in three locked runs.

Builds on the scoring test (``test_rulebook_c_scoring``: the same twelve agents and supervisors, their
flags, plans and quarter figures, and the base companies BC1-BC3 with their plans), scaled the same
way (TOP 300 → top 3, 108将 → top 2, 绩优组经理20强 → top 2, in the rankings and in the rewards'
"place ≤ N" conditions). Added here: first-sale-month 5-9-year and 10-year premiums, the managers'
team premiums on 28 February, each company's monthly recruitment rate, and the three named managers
of BC1 (M1 head, M2 deputy, M3 middle manager) and of BC3 (P1, P2, P3), and BC2's head N1. Runs: January (month end),
February and the quarter (1 Jan - 31 Mar), each after a recompute of its end date, made by one
finance user and approved by another, then locked. Amounts in yuan.

Figures that change between runs:
- after January: BC1 gets a late first-week policy (5 Jan, +110,000); a BC2 first-week policy is
  partly surrendered in the cooling-off period (3 Jan: 240,000 → 232,000); A02's 20 January premium
  falls 30,000 → 25,000; BC1's January recruitment rate is corrected 6 % → 4.5 %;
- after February: BC3 gets a late first-week policy (6 Jan, +115,000).

First-sale week bonus (1-7 Jan premiums ÷ quarter plan, highest tier of 1 % / 2 % / 2.5 %), paid
cumulatively:

company  plan       week premiums J / F / Q        share J / F / Q      entitled J / F / Q     lines J / F / Q                    final
BC1      1,000,000  210,000 / 320,000 / 320,000    21 % / 32 % / 32 %   2,100 / 6,400 / 6,400  award 2,100 / true-up 4,300 / –    6,400
BC2        800,000  240,000 / 232,000 / 232,000    30 % / 29 % / 29 %   4,800 / 2,320 / 2,320  award 4,800 / clawback −2,480 / –  2,320
BC3        500,000   60,000 /  60,000 / 175,000    12 % / 12 % / 35 %   0 / 0 / 4,375          – / – / award 4,375              4,375

First-sale month gifts (January; non-cash, one per agent, the highest value of the three ways in):
A01 first-year 60,000 → two dinners 1,000 (beats its 10-year 20,000 gift 200); A02 60,000 → two
dinners, revoked in February (55,000 after the surrender; line "revoked: …", amount 0); A05
5-9-year 30,000 → gift 200; A12 10-year 30,000 → dinner 500. Nobody else reaches a tier.

Recruitment bonus (each month on its own; 500 to each of the company's head, deputy, middle manager)
and penalty (months below 2 %, counted once at quarter end: two or more cost head / deputy / middle
manager 500 / 300 / 200):

company  rate Jan / Feb / Mar          payees     lines J / F / Q                                       final
BC1      6 % (→ 4.5 %) / 4 % / 5.5 %   M1 M2 M3   award 500 (Jan) / clawback −500 (Jan) / award 500 (Mar)  500 each
BC2      3 % / 7 % / 1 %               N1         – / award 500 (Feb) / –  (one month below 2 %: no penalty) 500
BC3      1 % / 1.5 % / 6 %             P1 P2 P3   – / – / award 500 (Mar) each; penalty −500 / −300 / −200  0 / 200 / 300

绩优组经理团建经费 (200 per month to the top 2 performance group managers by the month's team
premiums): Jan A06 80,000 1, A03 A09 50,000 2 (three winners, tie at the cut); Feb A09 60,000 1,
A11 55,000 2; Mar A03 70,000 1, A11 65,000 2. Finals: A03 400, A06 200, A09 400, A11 400.

Quarter-end awards (non-cash, amount 0; in the quarter run only):
- summit (contest ≥ 1,000,000): A01, A02; TOP 300 title (places ≤ 3): A01, A02, A04, A05 (tie at 3).
- trips, one per person by value (TOP 300 plane 12,000 > 108将 8,000 > 奋进奖 train 5,000), a green
  rating required of supervisors only (主管必须…绿牌), places not passed down: A01 A02 A04 A05 TOP 300
  (A01, A02 and A05 also 奋进奖: dropped; A02 is an agent, so not being green does not matter); A03
  A09 108将 (also 奋进奖: dropped); A08 奋进奖; A11 (supervisor, 奋进奖 place 4) is not green in this
  test: no trip, and nobody moves up; A07 (TOP 300 place 5) does not move up either.
- 组织发展表彰大会: A09. 39强: BC1 (3,220,000, 64.4 % of its year plan); 39快: BC2 (69.6 %), BC1 —
  BC1 holds both titles (they stack).
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils.translation import gettext

from branches import services as org
from branches.facts import FactSource, merge_facts
from branches.models import Indicator, Position, Staff, SubjectKind, Unit
from campaigns.campaign_file import import_campaign, load_template
from rewards.item_import import import_items
from rewards.models import LineKind, PeriodKind, RewardScheme
from tests.rulebooks.payouts import paid_per_payee_and_rule, pay, payee, placeholders_replaced
from tests.rulebooks.test_rulebook_c_scoring import (
    COMPANIES,
    COMPANY_FIGURES,
    FLAGS,
    HIRED,
    JAN_END,
    PLAN,
    QUARTER_END,
    SCALED_TOP_N,
    STAFF,
    build_city,
    company_figures,
    figures,
)

Q1_START, FEB_END = datetime.date(2027, 1, 1), datetime.date(2027, 2, 28)
# Besides A02 (an agent), supervisor A11 is not rated green here: a supervisor needs it for a trip.
NOT_GREEN_HERE = {"A11"}
# Reward rule code → the "place ≤ N" value scaled like its ranking.
SCALED_PLACES = {"top300_title": "3", "top300_trip": "3", "supervisor_108_trip": "2", "gm_team_fund": "2"}
MANAGERS = {
    "M1": ("BC1", Position.HEAD), "M2": ("BC1", Position.DEPUTY), "M3": ("BC1", Position.MIDDLE_MANAGER),
    "N1": ("BC2", Position.HEAD),
    "P1": ("BC3", Position.HEAD), "P2": ("BC3", Position.DEPUTY), "P3": ("BC3", Position.MIDDLE_MANAGER),
}

# (subject code, level, indicator, day, value) loaded before January.
EXTRA = [
    ("A05", "staff", "INS_FYP_5_9Y", datetime.date(2027, 1, 20), 30_000),
    ("A12", "staff", "INS_FYP_10Y", datetime.date(2027, 1, 10), 30_000),
    ("A03", "staff", "INS_TEAM_REG_PREM_MTD", FEB_END, 40_000),
    ("A06", "staff", "INS_TEAM_REG_PREM_MTD", FEB_END, 10_000),
    ("A09", "staff", "INS_TEAM_REG_PREM_MTD", FEB_END, 60_000),
    ("A11", "staff", "INS_TEAM_REG_PREM_MTD", FEB_END, 55_000),
    ("BC1", "unit", "INS_RECRUIT_RATE", JAN_END, "0.06"),
    ("BC1", "unit", "INS_RECRUIT_RATE", FEB_END, "0.04"),
    ("BC1", "unit", "INS_RECRUIT_RATE", QUARTER_END, "0.055"),
    ("BC2", "unit", "INS_RECRUIT_RATE", JAN_END, "0.03"),
    ("BC2", "unit", "INS_RECRUIT_RATE", FEB_END, "0.07"),
    ("BC2", "unit", "INS_RECRUIT_RATE", QUARTER_END, "0.01"),
    ("BC3", "unit", "INS_RECRUIT_RATE", JAN_END, "0.01"),
    ("BC3", "unit", "INS_RECRUIT_RATE", FEB_END, "0.015"),
    ("BC3", "unit", "INS_RECRUIT_RATE", QUARTER_END, "0.06"),
]
AFTER_JANUARY = [
    ("BC1", "unit", "INS_FYP", datetime.date(2027, 1, 5), 110_000),
    ("BC2", "unit", "INS_FYP", datetime.date(2027, 1, 3), 232_000),
    ("A02", "staff", "INS_FYP", datetime.date(2027, 1, 20), 25_000),
    ("BC1", "unit", "INS_RECRUIT_RATE", JAN_END, "0.045"),
]
AFTER_FEBRUARY = [("BC3", "unit", "INS_FYP", datetime.date(2027, 1, 6), 115_000)]

A, T, C = LineKind.AWARD, LineKind.TRUE_UP, LineKind.CLAWBACK
REVOKED = object()  # "revoked: 首卖月双人晚宴" in the active language, filled in by expect()
# run → {(payee, rule): (line kind, amount, non-cash award)}
LINES = {
    "january": {
        ("BC1", "first_week_bonus"): (A, "2100", ""),
        ("BC2", "first_week_bonus"): (A, "4800", ""),
        ("A01", "gift_fyp"): (A, "0", "首卖月双人晚宴"),
        ("A02", "gift_fyp"): (A, "0", "首卖月双人晚宴"),
        ("A05", "gift_5_9y"): (A, "0", "首卖月礼品"),
        ("A12", "gift_10y"): (A, "0", "首卖月晚宴"),
        ("M1", "recruitment_bonus"): (A, "500", ""),
        ("M2", "recruitment_bonus"): (A, "500", ""),
        ("M3", "recruitment_bonus"): (A, "500", ""),
        ("A06", "gm_team_fund"): (A, "200", "团建经费"),
        ("A03", "gm_team_fund"): (A, "200", "团建经费"),
        ("A09", "gm_team_fund"): (A, "200", "团建经费"),
    },
    "february": {
        ("BC1", "first_week_bonus"): (T, "4300", ""),
        ("BC2", "first_week_bonus"): (C, "-2480", ""),
        ("A02", "gift_fyp"): (C, "0", REVOKED),
        ("M1", "recruitment_bonus"): (C, "-500", ""),
        ("M2", "recruitment_bonus"): (C, "-500", ""),
        ("M3", "recruitment_bonus"): (C, "-500", ""),
        ("N1", "recruitment_bonus"): (A, "500", ""),
        ("A09", "gm_team_fund"): (A, "200", "团建经费"),
        ("A11", "gm_team_fund"): (A, "200", "团建经费"),
    },
    "quarter": {
        ("BC3", "first_week_bonus"): (A, "4375", ""),
        ("M1", "recruitment_bonus"): (A, "500", ""),
        ("M2", "recruitment_bonus"): (A, "500", ""),
        ("M3", "recruitment_bonus"): (A, "500", ""),
        **{(code, "recruitment_bonus"): (A, "500", "") for code in ("P1", "P2", "P3")},
        ("P1", "recruitment_penalty"): (LineKind.PENALTY, "-500", ""),
        ("P2", "recruitment_penalty"): (LineKind.PENALTY, "-300", ""),
        ("P3", "recruitment_penalty"): (LineKind.PENALTY, "-200", ""),
        ("A03", "gm_team_fund"): (A, "200", "团建经费"),
        ("A11", "gm_team_fund"): (A, "200", "团建经费"),
        ("A01", "summit"): (A, "0", "峰会入围+平板电脑"),
        ("A02", "summit"): (A, "0", "峰会入围+平板电脑"),
        **{(code, "top300_title"): (A, "0", "TOP 300") for code in ("A01", "A02", "A04", "A05")},
        **{(code, "top300_trip"): (A, "0", "TOP 300旅游（飞机，VIP）") for code in ("A01", "A02", "A04", "A05")},
        **{(code, "supervisor_108_trip"): (A, "0", "主管108将旅游") for code in ("A03", "A09")},
        ("A08", "fenjin_trip"): (A, "0", "奋进奖旅游（火车）"),
        ("A09", "org_dev_place"): (A, "0", "组织发展表彰大会名额"),
        ("BC1", "strong_39"): (A, "0", "39强称号+旅游名额"),
        ("BC1", "fast_39"): (A, "0", "39快称号+旅游名额"),
        ("BC2", "fast_39"): (A, "0", "39快称号+旅游名额"),
    },
}
# The quarter's final cash amount per (payee, rule); every other line's (payee, rule) nets to 0.
FINAL_CASH = {
    ("BC1", "first_week_bonus"): "6400", ("BC2", "first_week_bonus"): "2320", ("BC3", "first_week_bonus"): "4375",
    ("M1", "recruitment_bonus"): "500", ("M2", "recruitment_bonus"): "500", ("M3", "recruitment_bonus"): "500",
    ("N1", "recruitment_bonus"): "500",
    ("P1", "recruitment_bonus"): "500", ("P2", "recruitment_bonus"): "500", ("P3", "recruitment_bonus"): "500",
    ("P1", "recruitment_penalty"): "-500", ("P2", "recruitment_penalty"): "-300", ("P3", "recruitment_penalty"): "-200",
    ("A03", "gm_team_fund"): "400", ("A06", "gm_team_fund"): "200", ("A09", "gm_team_fund"): "400",
    ("A11", "gm_team_fund"): "400",
}



def lines(run) -> dict:
    return {(payee(line), line.rule.code): (line.kind, line.amount, line.non_cash_award) for line in run.lines.select_related("rule")}


def expect(table: dict) -> dict:
    revoked = gettext("revoked: %(award)s") % {"award": "首卖月双人晚宴"}
    return {
        key: (kind, Decimal(amount).quantize(Decimal("0.01")), revoked if award is REVOKED else award)
        for key, (kind, amount, award) in table.items()
    }


def merge(rows, reference: str) -> None:
    staff = dict(Staff.objects.values_list("employee_no", "id"))
    units = dict(Unit.objects.values_list("code", "id"))
    indicators = dict(Indicator.objects.values_list("code", "id"))
    outcome = merge_facts(
        rows=[
            (
                indicators[indicator],
                SubjectKind.STAFF if level == "staff" else SubjectKind.UNIT,
                staff[code] if level == "staff" else units[code],
                day,
                Decimal(str(value)),
                n,
            )
            for n, (code, level, indicator, day, value) in enumerate(rows, start=1)
        ],
        source=FactSource(kind="manual", reference=reference),
    )
    assert outcome.ok, outcome.errors[:3]


@pytest.fixture
def campaign(db):
    companies = build_city()
    for code, (company, position) in MANAGERS.items():
        org.hire_staff(employee_no=code, name=f"经理{code}", unit=companies[company], position=position, on=HIRED)

    doc = placeholders_replaced(load_template("c-insurance-agents"))
    flags = {**FLAGS, "green": FLAGS["green"] - NOT_GREEN_HERE}
    doc["participants"] = [{"staff": code, "flags": sorted(f for f, who in flags.items() if code in who)} for code in STAFF]
    doc["participants"] += [{"unit": code} for code in COMPANIES]
    doc["targets"] = [{"participant": code, "metric": "fyp", "period": "campaign", "target": PLAN} for code in STAFF]
    for code, (_premiums, quarter, january, year) in COMPANY_FIGURES.items():
        doc["targets"] += [
            {"participant": code, "metric": "fyp", "period": "campaign", "target": quarter},
            {"participant": code, "metric": "fyp", "period": "month", "month": "2027-01-01", "target": january},
            {"participant": code, "metric": "fyp_year", "period": "campaign", "target": year},
        ]
    for ranking in doc["rankings"]:
        if ranking["code"] in SCALED_TOP_N:
            ranking["top_n"] = SCALED_TOP_N[ranking["code"]]
    for rule in doc["rewards"][0]["rules"]:
        for condition in rule["params"].get("conditions", []):
            if "rank" in condition["figure"] and rule["code"] in SCALED_PLACES:
                condition["value"] = SCALED_PLACES[rule["code"]]
    campaign = import_campaign(doc, code="C-2027")

    base = [(code, "staff", indicator, day, value) for code, indicator, day, value in figures()]
    base += [
        (code, "unit", indicator, day, value)
        for code, indicator, day, value in company_figures()
        if indicator != "INS_RECRUIT_RATE"  # this test's own rates are in EXTRA
    ]
    merge(base + EXTRA, "rulebook C payout test data")
    return campaign




@pytest.fixture
def runs(campaign, finance):
    january = pay(campaign, finance, JAN_END)
    merge(AFTER_JANUARY, "late policies and cooling-off surrenders found after January")
    february = pay(campaign, finance, FEB_END)
    merge(AFTER_FEBRUARY, "late first-week policy found after February")
    quarter = pay(campaign, finance, QUARTER_END, kind=PeriodKind.QUARTER, start=Q1_START)
    return {"january": january, "february": february, "quarter": quarter}


def test_template_c_carries_every_expressible_award(campaign):
    scheme = RewardScheme.objects.get(campaign_code=campaign.code)
    assert scheme.code == "C-2027-main"
    assert {code: (kind, group) for code, kind, group in scheme.rules.values_list("code", "kind", "stacking_group")} == {
        "first_sale_day": ("item_bands", ""),
        "first_week_bonus": ("threshold_bands", ""),
        "gift_5_9y": ("threshold_bands", "first_month_gift"),
        "gift_10y": ("threshold_bands", "first_month_gift"),
        "gift_fyp": ("threshold_bands", "first_month_gift"),
        "summit": ("title", ""),
        "top300_title": ("title", ""),
        "top300_trip": ("title", "trip"),
        "fenjin_trip": ("title", "trip"),
        "supervisor_108_trip": ("title", "trip"),
        "gm_team_fund": ("title", ""),
        "org_dev_place": ("title", ""),
        "strong_39": ("title", ""),
        "fast_39": ("title", ""),
        "recruitment_bonus": ("threshold_bands", ""),
        "recruitment_penalty": ("threshold_bands", ""),
    }


def test_january_pays_the_first_week_bonus_gifts_recruitment_and_team_fund(runs):
    assert lines(runs["january"]) == expect(LINES["january"])


def test_february_trues_up_late_policies_and_claws_back_surrenders_and_a_corrected_rate(runs):
    assert lines(runs["february"]) == expect(LINES["february"])
    bc2 = runs["february"].lines.get(rule__code="first_week_bonus", unit_code="BC2")
    assert bc2.adjusts == runs["january"].lines.get(rule__code="first_week_bonus", unit_code="BC2")
    m1 = runs["february"].lines.get(rule__code="recruitment_bonus", employee_no="M1")
    assert (m1.period_start, m1.adjusts.run) == (Q1_START, runs["january"])


def test_quarter_pays_titles_and_one_trip_per_person_a_supervisor_only_when_rated_green(runs):
    got = lines(runs["quarter"])
    assert got == expect(LINES["quarter"])
    trips = runs["quarter"].lines.filter(rule__stacking_group="trip")
    assert trips.values("employee_no").distinct().count() == trips.count()
    assert not runs["quarter"].lines.filter(employee_no__in=["A07", "A11"], rule__stacking_group="trip").exists()
    # A02 is an agent: the green rating binds supervisors only.
    assert runs["quarter"].lines.filter(employee_no="A02", rule__code="top300_trip").exists()
    top300 = runs["quarter"].lines.get(rule__code="top300_trip", employee_no="A01")
    assert top300.comparison_value == Decimal("12000.00")


def test_a_title_line_shows_the_winner_s_place_best_first(runs):
    """Titles read a place ({rank: top300}): place 1 is rank 1 on its line, not the last one."""
    title = runs["quarter"].lines.filter(rule__code="top300_title")
    assert {line.employee_no: (line.figures["rank"], line.figures["by"]) for line in title} == {
        "A01": (1, "1"),
        "A02": (2, "2"),
        "A04": (3, "3"),
        "A05": (3, "3"),
    }


def test_a_revoked_gift_is_not_revoked_again_in_the_quarter(runs):
    assert not runs["quarter"].lines.filter(employee_no="A02", rule__code="gift_fyp").exists()


def test_monthly_lines_plus_adjustments_add_up_to_the_quarter_final_for_every_payee(runs):
    totals = paid_per_payee_and_rule(runs.values())
    every_key = {key for table in LINES.values() for key in table}
    assert set(totals) == every_key
    assert totals == {key: Decimal(FINAL_CASH.get(key, "0")) for key in every_key}
    per_payee: dict[str, Decimal] = {}
    for (code, _rule), total in totals.items():
        per_payee[code] = per_payee.get(code, Decimal(0)) + total
    assert {code: total for code, total in per_payee.items() if total} == {
        "BC1": Decimal("6400"), "BC2": Decimal("2320"), "BC3": Decimal("4375"),
        "M1": Decimal("500"), "M2": Decimal("500"), "M3": Decimal("500"), "N1": Decimal("500"),
        "P2": Decimal("200"), "P3": Decimal("300"),  # P1: 500 − 500
        "A03": Decimal("400"), "A06": Decimal("200"), "A09": Decimal("400"), "A11": Decimal("400"),
    }


def test_runs_are_locked_with_four_eyes(runs, finance):
    for run in runs.values():
        assert run.state == "locked"
        assert run.created_by == finance["maker"] and run.approved_by == finance["checker"]


def test_two_months_below_2_percent_cost_the_named_managers_500_300_200_once_at_quarter_end(runs):
    penalties = {
        name: {line.employee_no: line.amount for line in run.lines.filter(rule__code="recruitment_penalty")}
        for name, run in runs.items()
    }
    assert penalties == {
        "january": {},
        "february": {},  # BC3 already had two months below 2 %, but the penalty waits for the quarter
        "quarter": {"P1": Decimal("-500.00"), "P2": Decimal("-300.00"), "P3": Decimal("-200.00")},
    }


# First-sale day (1-4 January), the template's placeholder bands 1,000 → 50, 5,000 → 200, 10,000 →
# 500 per policy; a surrender within 15 days of the effective date earns nothing:
# A01: 12,000 (1 Jan) → 500, 4,000 (4 Jan) → 50, 30,000 (5 Jan: not a first-sale day) → –: 550;
# A05: 6,000 (2 Jan) → 200, 900 (3 Jan) → below every band, 20,000 (3 Jan, surrendered 10 Jan) → –:
# 200, then its 6,000 policy is found surrendered on 12 January: February claws back 200.
POLICIES = [
    ("A01", "POLICY", "C-0001", "2027-01-01", "12000"),
    ("A01", "POLICY", "C-0002", "2027-01-04", "4000"),
    ("A01", "POLICY", "C-0003", "2027-01-05", "30000"),
    ("A05", "POLICY", "C-0004", "2027-01-02", "6000"),
    ("A05", "POLICY", "C-0005", "2027-01-03", "900"),
    ("A05", "POLICY", "C-0006", "2027-01-03", "20000", "2027-01-10"),
]
COLUMNS = ("staff", "kind", "item_no", "date", "amount", "end_date")


def test_first_sale_day_pays_each_policy_by_its_premium_band_and_claws_back_a_later_surrender(campaign, finance):
    loaded = import_items([(n, dict(zip(COLUMNS, row, strict=False))) for n, row in enumerate(POLICIES, start=2)])
    assert loaded.ok, loaded.errors
    january = pay(campaign, finance, JAN_END)
    assert {line.employee_no: line.amount for line in january.lines.filter(rule__code="first_sale_day")} == {
        "A01": Decimal("550.00"),
        "A05": Decimal("200.00"),
    }
    surrendered = ("A05", "POLICY", "C-0004", "2027-01-02", "6000", "2027-01-12")
    assert import_items([(2, dict(zip(COLUMNS, surrendered, strict=True)))]).ok
    february = pay(campaign, finance, FEB_END)
    assert [
        (line.employee_no, line.kind, line.amount) for line in february.lines.filter(rule__code="first_sale_day")
    ] == [("A05", LineKind.CLAWBACK, Decimal("-200.00"))]


def test_the_same_lines_when_the_run_is_calculated_a_few_rows_at_a_time(campaign, finance, monkeypatch):
    """The calculation streams entitlements, non-stacking and lines in chunks; chunks of two rows
    cross every payee and rule boundary and must change nothing."""
    from rewards import calculate

    monkeypatch.setattr(calculate, "CHUNK", 2)
    january = pay(campaign, finance, JAN_END)
    merge(AFTER_JANUARY, "late policies and cooling-off surrenders found after January")
    february = pay(campaign, finance, FEB_END)
    merge(AFTER_FEBRUARY, "late first-week policy found after February")
    quarter = pay(campaign, finance, QUARTER_END, kind=PeriodKind.QUARTER, start=Q1_START)
    for name, run in (("january", january), ("february", february), ("quarter", quarter)):
        assert lines(run) == expect(LINES[name]), name
