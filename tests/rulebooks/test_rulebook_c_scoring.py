"""Rulebook C (insurer's individual-agent channel), scored from the built-in template on twelve staff.

Every expected figure below is worked out by hand from the tables here; the test loads the
template, lists the twelve agents and supervisors with their planner flags, gives each the same
quarter plan, loads three months of figures through the facts write path and recomputes 31 January
(the first month's boards) and 31 March 2027 (the quarter).

Organisation: city branch HO → war zones WZ1 (base companies BC1, BC2) and WZ2 (BC3) → staff.
X01 (BC1) is an agent who is not in the campaign; their 5,000,000 contest premiums rank nowhere.
The template's prize counts are scaled down for twelve people: TOP 300 → top 3, 108将 → top 2,
绩优组经理20强 → top 2 (ranking top_n; everything else is the template as shipped).

Plan (target of ``fyp``): 100,000 yuan each. Score: 100 × first-year premiums ÷ plan, capped at 100.
First-year premiums (yuan) take effect on 3 Jan (first-sale week), 20 Jan, 10 Feb and 20 Mar:

staff  company  3 Jan   20 Jan  10 Feb  20 Mar   Q1 fyp   score 31 Jan  score 31 Mar
A01    BC1      40,000  20,000  10,000  50,000  120,000  60            100 (capped)
A02    BC1      30,000  30,000  10,000  30,000  100,000  60            100
A03 S  BC1      10,000  10,000   5,000  25,000   50,000  20             50
A04    BC2      20,000  20,000       0  40,000   80,000  40             80
A05    BC2      25,000  25,000  10,000  30,000   90,000  50             90
A06 S  BC2       5,000   5,000   5,000   5,000   20,000  10             20
A07    BC3      15,000  15,000  10,000  20,000   60,000  30             60
A08    BC3      10,000  20,000   5,000  35,000   70,000  30             70
A09 S  BC3      10,000  10,000  10,000  10,000   40,000  20             40
A10    BC3      — no figures at all —                0   0              0
A11 S  BC1      30,000       0       0       0   30,000  30             30
A12 S  BC2      20,000  20,000  20,000  50,000  110,000  40            100 (capped)
(S = supervisor)

Quarter figures (contest and short-term premiums on 10 Mar; team figures of supervisors; the
delivered counts and month-to-date team premiums on the day they are read):

staff  contest    short   green  team contest  recruits  grade ok  perf. GM  team MTD 31 Jan / 31 Mar  promoted  card
A01    1,200,000  3,000   yes
A02    1,000,000  1,500   no
A03       80,000  2,000   yes    600,000       2         yes       yes       50,000 / 70,000                     5,000
A04      500,000  1,000   yes
A05      500,000  1,500   yes
A06       59,000  5,000   yes    900,000       1         yes       yes       80,000 / 20,000
A07      300,000  1,499.5 yes
A08      150,000  2,000   yes
A09       60,000  1,500   yes    400,000       3         yes       yes       50,000 / 60,000           yes       1,500
A10      —        —       yes
A11      200,000  1,600   yes    700,000       2         no        yes       30,000 / 65,000           yes       1,400
A12      250,000  1,200   yes    300,000       2         yes       no        90,000 / 90,000                     2,000

Hand-computed boards on 31 March (competition ranks 1, 2, 2, 4):
- progress (total score): A01 A02 A12 = 1, A05 4, A04 5, A08 6, A07 7, A03 8, A09 9, A11 10, A06 11, A10 12.
- progress within base company: BC1 A01 A02 1, A03 3, A11 4; BC2 A12 1, A05 2, A04 3, A06 4;
  BC3 A08 1, A07 2, A09 3, A10 4.
- fyp largest: A01 1 … A06 11 in order of Q1 fyp; A10 (no figure) is not on the board.
- summit (contest ≥ 1,000,000): A01 1, A02 2 (exactly at the bar).
- TOP 300 (contest ≥ 200,000, top 3): A01 1, A02 2, A04 3, A05 3, A07 5, A12 6, A11 7; winners
  A01, A02, A04, A05 (the tie at the cut wins twice). A02 is not green: the place is kept (the trip
  is withheld by the reward), so A07 is not moved up. X01 is not a participant: not ranked.
- 奋进奖 (contest ≥ 60,000 and short-term ≥ 1,500): A01 1, A02 2, A05 3, A11 4, A08 5, A03 6, A09 7;
  out: A04 (short 1,000), A06 (contest 59,000), A07 (short 1,499.5), A10, A12 (short 1,200).
- 108将 (grade review passed, team ≥ 300,000, ≥ 2 recruits, top 2): A03 1, A09 2, A12 3; winners A03
  and A09. The floors apply before ranking: A06 (900,000, one recruit) and A11 (700,000, no grade
  flag) have larger teams but take no place.
- 绩优组经理20强 (flag performance GM, top 2, this month's team premiums): 31 January A06 1, A03 2,
  A09 2, A11 4 (winners A06, A03, A09); 31 March A03 1, A11 2, A09 3, A06 4 (winners A03, A11).
  A12 has the largest team but not the flag.
- 组织发展表彰大会 (promoted, card ≥ 1,500): A09 only.

The base companies BC1, BC2, BC3 take part as units in the same (mixed) campaign. Their first-year
premiums (yuan) and plans:

company  zone  3 Jan    20 Jan   10 Feb     quarter plan  January plan  year plan
BC1      WZ1   210,000  100,000  2,800,000  1,000,000     400,000       5,000,000
BC2      WZ1   240,000   60,000  1,100,000    800,000     300,000       2,000,000
BC3      WZ2    60,000   90,000  2,900,000    500,000     200,000       8,000,000

- first-sale week (phase 1-7 January, 30 % of the quarter plan): BC2 240,000 ÷ 240,000 = 100 %
  rank 1, BC1 210,000 ÷ 300,000 = 70 % rank 2, BC3 60,000 ÷ 150,000 = 40 % rank 3.
- war zones on 31 January (January's premiums ÷ January's plans, summed per zone): WZ1
  (310,000 + 300,000) ÷ (400,000 + 300,000) = 87.14 % rank 1, WZ2 150,000 ÷ 200,000 = 75 % rank 2.
- 31 March, year progress: BC1 3,110,000 ÷ 5,000,000 = 62.2 %, BC2 1,400,000 ÷ 2,000,000 = 70 %,
  BC3 3,050,000 ÷ 8,000,000 = 38.125 %. 39强 (≥ 3,000,000 and ≥ 45 %): BC1 only (BC3 is under 45 %).
  39快 (≥ 55 % and ≥ 1,000,000): BC2 1, BC1 2 — BC1 wins both.
- recruitment rate of BC1 delivered month to date: 6 % on 31 Jan, 4 % on 28 Feb, 5 % on 31 Mar;
  the month rows read 6 %, 4 %, 5 %.
The companies score no points (the progress rule is limited to staff) and appear on no staff board.

Not covered (no test here): a monthly ranking on the month's own flows (the template reads a
month-to-date figure as delivered instead). Rewards (values, non-stacking, green rating, the
first-sale week's management bonus and the recruitment money) are tested by the rewards suite.
"""

import datetime
from decimal import Decimal

import pytest

from branches import services as org
from branches.facts import FactSource, merge_facts
from branches.models import Indicator, Position, Staff, SubjectKind, UnitKind
from campaigns.campaign_file import import_campaign, load_template
from campaigns.models import GroupMembership, Participant
from scoring import engine
from scoring.models import MetricResult, ParticipantResult, RankEntry, Ranking, RuleScore

JAN_END = datetime.date(2027, 1, 31)
QUARTER_END = datetime.date(2027, 3, 31)
FYP_DAYS = [datetime.date(2027, 1, 3), datetime.date(2027, 1, 20), datetime.date(2027, 2, 10), datetime.date(2027, 3, 20)]
QUARTER_FIGURES_DAY = datetime.date(2027, 3, 10)
PLAN = 100_000

COMPANIES = {"BC1": "WZ1", "BC2": "WZ1", "BC3": "WZ2"}

# code: (company, supervisor, first-year premiums on the four FYP_DAYS or None, contest, short-term)
STAFF = {
    "A01": ("BC1", False, (40_000, 20_000, 10_000, 50_000), 1_200_000, 3_000),
    "A02": ("BC1", False, (30_000, 30_000, 10_000, 30_000), 1_000_000, 1_500),
    "A03": ("BC1", True, (10_000, 10_000, 5_000, 25_000), 80_000, 2_000),
    "A04": ("BC2", False, (20_000, 20_000, 0, 40_000), 500_000, 1_000),
    "A05": ("BC2", False, (25_000, 25_000, 10_000, 30_000), 500_000, 1_500),
    "A06": ("BC2", True, (5_000, 5_000, 5_000, 5_000), 59_000, 5_000),
    "A07": ("BC3", False, (15_000, 15_000, 10_000, 20_000), 300_000, Decimal("1499.5")),
    "A08": ("BC3", False, (10_000, 20_000, 5_000, 35_000), 150_000, 2_000),
    "A09": ("BC3", True, (10_000, 10_000, 10_000, 10_000), 60_000, 1_500),
    "A10": ("BC3", False, None, None, None),
    "A11": ("BC1", True, (30_000, 0, 0, 0), 200_000, 1_600),
    "A12": ("BC2", True, (20_000, 20_000, 20_000, 50_000), 250_000, 1_200),
}

# supervisor: (team contest, effective recruits on 31 Mar, team premiums month to date 31 Jan / 31 Mar, card)
SUPERVISORS = {
    "A03": (600_000, 2, (50_000, 70_000), 5_000),
    "A06": (900_000, 1, (80_000, 20_000), None),
    "A09": (400_000, 3, (50_000, 60_000), 1_500),
    "A11": (700_000, 2, (30_000, 65_000), 1_400),
    "A12": (300_000, 2, (90_000, 90_000), 2_000),
}

FLAGS = {
    "green": set(STAFF) - {"A02"},
    "grade_review_passed": {"A03", "A06", "A09", "A12"},
    "performance_gm": {"A03", "A06", "A09", "A11"},
    "promoted": {"A09", "A11"},
}

# 10-year-term first-year premiums of A01 (the first-sale month gift is paid on January's figure).
A01_TEN_YEAR = [(datetime.date(2027, 1, 20), 20_000), (datetime.date(2027, 3, 20), 30_000)]

SCALED_TOP_N = {"top300": 3, "supervisor_108": 2, "gm_top20": 2}

# company: (premiums on 3 Jan, 20 Jan, 10 Feb), quarter plan, January plan, year plan
COMPANY_FIGURES = {
    "BC1": ((210_000, 100_000, 2_800_000), 1_000_000, 400_000, 5_000_000),
    "BC2": ((240_000, 60_000, 1_100_000), 800_000, 300_000, 2_000_000),
    "BC3": ((60_000, 90_000, 2_900_000), 500_000, 200_000, 8_000_000),
}
BC1_RECRUIT_RATE = [
    (datetime.date(2027, 1, 31), Decimal("0.06")), (datetime.date(2027, 2, 28), Decimal("0.04")), (QUARTER_END, Decimal("0.05"))
]


def company_figures() -> list[tuple[str, str, datetime.date, Decimal]]:
    rows = []
    for code, (premiums, *_plans) in COMPANY_FIGURES.items():
        rows += [(code, "INS_FYP", day, Decimal(value)) for day, value in zip(FYP_DAYS, premiums, strict=False)]
    rows += [("BC1", "INS_RECRUIT_RATE", day, rate) for day, rate in BC1_RECRUIT_RATE]
    return rows


def figures() -> list[tuple[str, str, datetime.date, Decimal]]:
    rows = []
    for code, (_company, _sup, fyp, contest, short) in STAFF.items():
        if fyp is None:
            continue
        rows += [(code, "INS_FYP", day, Decimal(value)) for day, value in zip(FYP_DAYS, fyp, strict=True)]
        rows += [
            (code, "INS_CONTEST_PREM", QUARTER_FIGURES_DAY, Decimal(contest)),
            (code, "INS_SHORT_PREM", QUARTER_FIGURES_DAY, Decimal(short)),
        ]
    for code, (team, recruits, (team_jan, team_mar), card) in SUPERVISORS.items():
        rows += [
            (code, "INS_TEAM_CONTEST_PREM", QUARTER_FIGURES_DAY, Decimal(team)),
            (code, "INS_EFFECTIVE_RECRUITS", QUARTER_END, Decimal(recruits)),
            (code, "INS_TEAM_REG_PREM_MTD", JAN_END, Decimal(team_jan)),
            (code, "INS_TEAM_REG_PREM_MTD", QUARTER_END, Decimal(team_mar)),
        ]
        if card is not None:
            rows.append((code, "INS_CARD_PREM", QUARTER_FIGURES_DAY, Decimal(card)))
    rows += [("A01", "INS_FYP_10Y", day, Decimal(value)) for day, value in A01_TEN_YEAR]
    # An agent outside the campaign with the largest contest premiums of the city.
    rows.append(("X01", "INS_CONTEST_PREM", QUARTER_FIGURES_DAY, Decimal(5_000_000)))
    return rows


HIRED = datetime.date(2026, 12, 1)


def build_city() -> dict:
    """The city company, its two war zones, the base companies and their agents (X01 outside the
    campaign); returns the base companies by code."""
    head = org.create_unit(code="HO", name="市分公司", kind=UnitKind.HEAD_OFFICE)
    zones = {code: org.create_unit(code=code, name=f"{code}战区", kind=UnitKind.REGION, parent=head) for code in ("WZ1", "WZ2")}
    companies = {
        code: org.create_unit(code=code, name=f"{code}基层公司", kind=UnitKind.BRANCH, parent=zones[zone])
        for code, zone in COMPANIES.items()
    }
    for code, (company, supervisor, *_rest) in STAFF.items():
        org.hire_staff(
            employee_no=code, name=f"营销员{code}", unit=companies[company],
            position=Position.SUPERVISOR if supervisor else Position.AGENT, on=HIRED,
        )
    org.hire_staff(employee_no="X01", name="营销员X01", unit=companies["BC1"], position=Position.AGENT, on=HIRED)
    return companies


def build_rulebook_c(edit=None, *, more_figures=()):
    """The city, the template with its participants, flags and plans (top N scaled down; then
    ``edit(doc)`` changes the loaded file, as a planner edits it), the figures (and
    ``more_figures``: (employee no, indicator, day, value) staff rows); recomputes 31 January and
    31 March. Returns (campaign, January's result set, the quarter's)."""
    companies = build_city()

    doc = load_template("c-insurance-agents")
    doc["participants"] = [
        {"staff": code, **({"flags": sorted(f for f, who in FLAGS.items() if code in who)})} for code in STAFF
    ]
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
    if edit is not None:
        edit(doc)
    campaign = import_campaign(doc, code="C-2027")

    staff = dict(Staff.objects.values_list("employee_no", "id"))
    indicators = dict(Indicator.objects.values_list("code", "id"))
    outcome = merge_facts(
        rows=[
            (indicators[ind], SubjectKind.STAFF, staff[code], day, value, n)
            for n, (code, ind, day, value) in enumerate(figures(), start=1)
        ]
        + [
            (indicators[ind], SubjectKind.UNIT, companies[code].pk, day, value, n)
            for n, (code, ind, day, value) in enumerate(company_figures(), start=10_000)
        ]
        + [
            (indicators[ind], SubjectKind.STAFF, staff[code], day, value, n)
            for n, (code, ind, day, value) in enumerate(more_figures, start=20_000)
        ],
        source=FactSource(kind="manual", reference="rulebook C test data"),
    )
    assert outcome.ok, outcome.errors[:3]
    january = engine.recompute(campaign.pk, JAN_END)
    quarter = engine.recompute(campaign.pk, QUARTER_END)
    return campaign, january, quarter


@pytest.fixture
def rulebook_c(db):
    return build_rulebook_c()


def code_of_participant() -> dict[int, str]:
    """Employee number of a staff participant, unit code of a company."""
    return {pid: staff or unit for pid, staff, unit in Participant.objects.values_list("id", "staff__employee_no", "unit__code")}


def participant_id(campaign, employee_no: str) -> int:
    return campaign.participants.get(staff__employee_no=employee_no).pk


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


def points(result_set) -> dict[str, Decimal]:
    totals = by_code(ParticipantResult.objects.filter(result_set_id=result_set.pk), "total_points")
    return {code: value.quantize(Decimal("0.0001")) for code, value in totals.items() if code in STAFF}


def figure(campaign, result_set, metric_code) -> dict[str, Decimal | None]:
    metric = campaign.metrics.get(code=metric_code)
    return by_code(MetricResult.objects.filter(result_set_id=result_set.pk, metric_id=metric.pk, monthly=False), "actual")


def expected(table: dict[str, int]) -> dict[str, Decimal]:
    return {code: Decimal(value).quantize(Decimal("0.0001")) for code, value in table.items()}


# --- Configuration -----------------------------------------------------------------------------


def test_template_is_a_mixed_campaign_with_the_four_phases_and_their_shares(rulebook_c):
    campaign, _january, _quarter = rulebook_c
    assert campaign.participant_level == "mixed"
    phases = [(p.code, p.start_date, p.end_date, p.target_share) for p in campaign.phases.order_by("start_date")]
    assert phases == [
        ("first_week", datetime.date(2027, 1, 1), datetime.date(2027, 1, 7), Decimal("0.30")),
        ("first_month", datetime.date(2027, 1, 8), datetime.date(2027, 1, 31), Decimal("0.30")),
        ("festival", datetime.date(2027, 2, 1), datetime.date(2027, 2, 28), Decimal("0.10")),
        ("sprint", datetime.date(2027, 3, 1), datetime.date(2027, 3, 31), Decimal("0.30")),
    ]
    assert sum(share for *_rest, share in phases) == 1


def test_open_points_are_recorded_with_their_defaults(rulebook_c):
    campaign, _january, _quarter = rulebook_c
    assert campaign.options == {
        "flags": ["green"],
        "non_stacking_compare": "value",
        "trip_values_differ": True,
        "non_stacking_scope": "trips",
        "place_not_taken": "forfeit",
        "top_n_ties": "all_tied_win",
        "floors_before_ranking": True,
        "recruitment_bonus": "each_month",
        "recruitment_penalty": "quarter_end",
        "war_zone_stages": "months",
        "ranking_scope": "campaign",
        "met_all_covers_bonus": False,
        "monthly_figures": ["recruitment_rate"],
    }
    # The defaults are carried by the rankings themselves: competition ties, no green filter.
    rankings = Ranking.objects.filter(campaign=campaign)
    assert set(rankings.values_list("tie_break", flat=True)) == {"competition"}
    assert not any("green" in flags for flags in rankings.values_list("required_flags", flat=True))


def test_staff_are_grouped_by_their_base_company_and_war_zone(rulebook_c):
    campaign, _january, _quarter = rulebook_c
    codes = code_of_participant()
    groups = {}
    for set_code, group_code, pid in GroupMembership.objects.filter(participant__campaign=campaign).values_list(
        "group_set__code", "group__code", "participant_id"
    ):
        groups.setdefault(set_code, {})[codes[pid]] = group_code
    companies = {code: code for code in COMPANIES}
    assert groups["base_company"] == {code: company for code, (company, *_rest) in STAFF.items()} | companies
    assert groups["war_zone"] == {code: COMPANIES[company] for code, (company, *_rest) in STAFF.items()} | COMPANIES


# --- Plan progress -------------------------------------------------------------------------------


def test_quarter_scores_are_plan_completion_capped_at_100(rulebook_c):
    _campaign, _january, quarter = rulebook_c
    assert points(quarter) == expected({
        "A01": 100, "A02": 100, "A03": 50, "A04": 80, "A05": 90, "A06": 20,
        "A07": 60, "A08": 70, "A09": 40, "A10": 0, "A11": 30, "A12": 100,
    })


def test_on_31_january_the_score_is_januarys_premiums_against_the_quarter_plan(rulebook_c):
    _campaign, january, _quarter = rulebook_c
    assert points(january) == expected({
        "A01": 60, "A02": 60, "A03": 20, "A04": 40, "A05": 50, "A06": 10,
        "A07": 30, "A08": 30, "A09": 20, "A10": 0, "A11": 30, "A12": 40,
    })


def test_an_agent_without_figures_scores_zero_and_is_missing_from_the_premium_board(rulebook_c):
    campaign, _january, quarter = rulebook_c
    rule = campaign.rules.get(code="fyp_progress")
    score = RuleScore.objects.get(
        result_set_id=quarter.pk, rule_id=rule.pk, monthly=False, participant_id=participant_id(campaign, "A10")
    )
    assert score.points == 0
    assert figure(campaign, quarter, "fyp")["A10"] is None
    assert "A10" not in board(campaign, quarter, "fyp_largest")
    assert board(campaign, quarter, "progress")["A10"] == 12


def test_progress_board_ties_the_capped_and_the_premium_board_tells_them_apart(rulebook_c):
    campaign, _january, quarter = rulebook_c
    assert board(campaign, quarter, "progress") == {
        "A01": 1, "A02": 1, "A12": 1, "A05": 4, "A04": 5, "A08": 6,
        "A07": 7, "A03": 8, "A09": 9, "A11": 10, "A06": 11, "A10": 12,
    }
    assert board(campaign, quarter, "fyp_largest") == {
        "A01": 1, "A12": 2, "A02": 3, "A05": 4, "A04": 5, "A08": 6,
        "A07": 7, "A03": 8, "A09": 9, "A11": 10, "A06": 11,
    }


def test_progress_is_ranked_within_each_base_company(rulebook_c):
    campaign, _january, quarter = rulebook_c
    assert board(campaign, quarter, "progress_by_company") == {
        "A01": 1, "A02": 1, "A08": 1, "A12": 1, "A05": 2, "A07": 2,
        "A03": 3, "A04": 3, "A09": 3, "A06": 4, "A10": 4, "A11": 4,
    }


def test_first_sale_month_figures_read_on_31_january_are_januarys_own(rulebook_c):
    campaign, january, quarter = rulebook_c
    assert figure(campaign, january, "fyp_10y")["A01"] == 20_000  # the first-sale month gift tiers pay on this
    assert figure(campaign, quarter, "fyp_10y")["A01"] == 50_000
    assert figure(campaign, january, "fyp")["A01"] == 60_000


# --- Elite rankings -------------------------------------------------------------------------------


def test_summit_qualifies_everyone_with_a_million_of_contest_premiums(rulebook_c):
    campaign, _january, quarter = rulebook_c
    assert board(campaign, quarter, "summit") == {"A01": 1, "A02": 2}  # A02 exactly at the bar


def test_top300_ranks_only_those_above_the_floor_and_everyone_tied_at_the_cut_wins(rulebook_c):
    campaign, _january, quarter = rulebook_c
    assert board(campaign, quarter, "top300") == {"A01": 1, "A02": 2, "A04": 3, "A05": 3, "A07": 5, "A12": 6, "A11": 7}
    assert winners(campaign, quarter, "top300") == {"A01", "A02", "A04", "A05"}


def test_top300_place_of_an_agent_without_green_rating_is_not_passed_down(rulebook_c):
    campaign, _january, quarter = rulebook_c
    ranking = Ranking.objects.get(campaign=campaign, code="top300")
    a02 = RankEntry.objects.get(result_set_id=quarter.pk, ranking_id=ranking.pk, participant_id=participant_id(campaign, "A02"))
    assert (a02.rank, a02.in_top) == (2, True)
    assert "A07" not in winners(campaign, quarter, "top300")


def test_top300_ranks_this_campaigns_agents_only(rulebook_c):
    campaign, _january, quarter = rulebook_c
    ranking = Ranking.objects.get(campaign=campaign, code="top300")
    entries = RankEntry.objects.filter(result_set_id=quarter.pk, ranking_id=ranking.pk)
    ranked = set(entries.values_list("participant_id", flat=True))
    assert ranked <= set(campaign.participants.values_list("id", flat=True))
    assert board(campaign, quarter, "top300")["A01"] == 1  # X01's 5,000,000 outside the campaign counts nowhere


def test_fenjin_needs_both_contest_and_short_term_floors(rulebook_c):
    campaign, _january, quarter = rulebook_c
    assert board(campaign, quarter, "fenjin") == {"A01": 1, "A02": 2, "A05": 3, "A11": 4, "A08": 5, "A03": 6, "A09": 7}


# --- Supervisor rankings ---------------------------------------------------------------------------


def test_supervisor_108_applies_floors_and_grade_review_before_ranking(rulebook_c):
    campaign, _january, quarter = rulebook_c
    assert board(campaign, quarter, "supervisor_108") == {"A03": 1, "A09": 2, "A12": 3}
    # A06 (one effective recruit) and A11 (no grade review) have larger teams but take no place.
    assert winners(campaign, quarter, "supervisor_108") == {"A03", "A09"}


def test_group_manager_top20_ranks_each_months_team_premiums(rulebook_c):
    campaign, january, quarter = rulebook_c
    assert board(campaign, january, "gm_top20") == {"A06": 1, "A03": 2, "A09": 2, "A11": 4}
    assert winners(campaign, january, "gm_top20") == {"A06", "A03", "A09"}
    # March on March's own figures: A11 climbs to second, A06 falls to last.
    assert board(campaign, quarter, "gm_top20") == {"A03": 1, "A11": 2, "A09": 3, "A06": 4}
    assert winners(campaign, quarter, "gm_top20") == {"A03", "A11"}


def test_organisation_development_meeting_needs_promotion_and_1500_of_card_business(rulebook_c):
    campaign, _january, quarter = rulebook_c
    assert board(campaign, quarter, "org_dev") == {"A09": 1}


def test_next_years_campaign_from_the_file_keeps_the_festival_phase_to_the_end_of_february(rulebook_c):
    campaign, _january, _quarter = rulebook_c
    from campaigns.campaign_file import export_campaign

    copy = import_campaign(export_campaign(campaign), code="C-2028", start_date=datetime.date(2028, 1, 1))
    festival = copy.phases.get(code="festival")
    assert (festival.start_date, festival.end_date) == (datetime.date(2028, 2, 1), datetime.date(2028, 2, 29))
    assert copy.participants.count() == len(STAFF) + len(COMPANIES)
    assert copy.options == campaign.options
    top300 = Ranking.objects.get(campaign=copy, code="top300")
    assert (top300.eligibility, top300.top_n) == ([{"metric": "contest_premium", "on": "figure", "min": 200000}], 3)


# --- Company-level awards (units in the same campaign) ------------------------------------------------


def test_companies_score_no_points_and_appear_on_no_staff_board(rulebook_c):
    campaign, _january, quarter = rulebook_c
    totals = by_code(ParticipantResult.objects.filter(result_set_id=quarter.pk), "total_points")
    assert {code: totals[code] for code in COMPANIES} == {"BC1": 0, "BC2": 0, "BC3": 0}
    staff_boards = ("progress", "progress_by_company", "fyp_largest", "summit", "top300", "fenjin", "supervisor_108")
    for code in staff_boards:
        assert not set(board(campaign, quarter, code)) & set(COMPANIES), code


def test_company_premiums_are_the_companies_own_facts(rulebook_c):
    campaign, january, _quarter = rulebook_c
    assert {code: figure(campaign, january, "fyp")[code] for code in COMPANIES} == {
        "BC1": 310_000, "BC2": 300_000, "BC3": 150_000
    }


def test_first_sale_week_ranks_companies_on_the_weeks_share_of_the_quarter_plan(rulebook_c):
    campaign, january, _quarter = rulebook_c
    assert board(campaign, january, "first_week_company") == {"BC2": 1, "BC1": 2, "BC3": 3}
    ranking = Ranking.objects.get(campaign=campaign, code="first_week_company")
    values = by_code(RankEntry.objects.filter(result_set_id=january.pk, ranking_id=ranking.pk), "value")
    assert {code: round(value, 4) for code, value in values.items()} == {
        "BC1": Decimal("0.7"), "BC2": Decimal("1"), "BC3": Decimal("0.4")
    }


def test_war_zones_rank_on_the_sum_of_premiums_over_the_sum_of_plans(rulebook_c):
    from scoring.selectors import group_leaderboard

    campaign, _january, _quarter = rulebook_c
    rows = group_leaderboard(campaign.pk, JAN_END, "war_zones")
    assert [(r.code, r.rank, round(r.value, 4), r.members) for r in rows] == [
        ("WZ1", 1, Decimal("0.8714"), 2), ("WZ2", 2, Decimal("0.75"), 1)
    ]


def test_strong_39_and_fast_39_apply_their_floors_and_stack(rulebook_c):
    campaign, _january, quarter = rulebook_c
    assert board(campaign, quarter, "strong_39") == {"BC1": 1}
    assert board(campaign, quarter, "fast_39") == {"BC2": 1, "BC1": 2}


def test_recruitment_rate_is_stored_per_month_without_a_rule(rulebook_c):
    campaign, _january, quarter = rulebook_c
    metric = campaign.metrics.get(code="recruitment_rate")
    rows = MetricResult.objects.filter(
        result_set_id=quarter.pk, metric_id=metric.pk, monthly=True, participant_id=campaign.participants.get(unit__code="BC1").pk
    )
    assert sorted((r.period_start.month, r.actual) for r in rows) == [
        (1, Decimal("0.06")), (2, Decimal("0.04")), (3, Decimal("0.05"))
    ]
