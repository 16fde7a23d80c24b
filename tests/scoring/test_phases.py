"""Figures and rankings per phase (rulebook C: progress within each phase against its own share)."""

import datetime

from campaigns.models import Phase, TargetPeriod
from scoring.engine import recompute
from scoring.models import MetricResult, PhaseResult, Ranking
from scoring.selectors import phase_figures
from tests.scoring.conftest import D
from tests.scoring.helpers import ranks

JAN_10 = datetime.date(2027, 1, 10)
FEB_5 = datetime.date(2027, 2, 5)
FEB_10 = datetime.date(2027, 2, 10)


def phased(build, *, jan_b2=50):
    """Premium flow: P1 (January, 40 % of the target) and P2 (Feb–Mar, 60 %).

    B1: 30 in January, 50 in February, target 100 → P1 target 40, P2 target 60.
    B2: ``jan_b2`` in January, 20 in February, target 200 → P1 target 80, P2 target 120.
    """
    build.branches("B1", "B2")
    build.metric("prem", figure="flow_sum")
    p1 = Phase.objects.create(campaign=build.campaign, code="P1", name="P1", start_date=datetime.date(2027, 1, 1),
                              end_date=datetime.date(2027, 1, 31), target_share=D("0.4"))
    p2 = Phase.objects.create(campaign=build.campaign, code="P2", name="P2", start_date=datetime.date(2027, 2, 1),
                              end_date=datetime.date(2027, 3, 31), target_share=D("0.6"))
    build.facts("prem", JAN_10, B1=30, B2=jan_b2)
    build.facts("prem", FEB_5, B1=50, B2=20)
    build.target("prem", "B1", 100)
    build.target("prem", "B2", 200)
    return p1, p2


def ranking(build, code="phase", **fields):
    r = Ranking(campaign=build.campaign, code=code, name=code, basis="metric_completion",
                metric=build.metrics["prem"], period="phase", **fields)
    r.full_clean()
    r.save()
    return r


def test_phase_figures_use_the_phase_dates_and_the_share_of_the_target(build):
    phased(build)
    ranking(build)
    recompute(build.campaign.pk, FEB_10)
    p2 = phase_figures(build.campaign.pk, FEB_10, "prem", phase="P2", field="completion")
    code_of = {p.pk: code for code, p in build.participants.items()}
    assert {code_of[k]: round(v, 4) for k, v in p2.items()} == {"B1": D("0.8333"), "B2": D("0.1667")}
    p1 = phase_figures(build.campaign.pk, FEB_10, "prem", phase="P1", field="target")
    assert {code_of[k]: v for k, v in p1.items()} == {"B1": 40, "B2": 80}


def test_a_phase_target_overrides_the_share(build):
    _p1, p2 = phased(build)
    build.target("prem", "B2", 40, period=TargetPeriod.PHASE, phase=p2)
    ranking(build)
    result = recompute(build.campaign.pk, FEB_10)
    row = PhaseResult.objects.get(result_set_id=result.pk, participant_id=build.participants["B2"].pk, phase_id=p2.pk)
    assert (row.actual, row.target, row.completion) == (20, 40, D("0.5"))


def test_current_phase_ranking_and_a_named_phase(build):
    phased(build, jan_b2=70)  # P1: B1 30/40 = 75 %, B2 70/80 = 87.5 %; P2: B1 50/60, B2 20/120
    current = ranking(build, "current")
    first = ranking(build, "first", phase="P1")
    result = recompute(build.campaign.pk, FEB_10)
    assert ranks(build, result, current) == {"B1": 1, "B2": 2}
    assert ranks(build, result, first) == {"B2": 1, "B1": 2}


def test_a_phase_not_begun_ranks_nobody(build):
    phased(build)
    second = ranking(build, "second", phase="P2")
    assert ranks(build, recompute(build.campaign.pk, JAN_10), second) == {}


def test_eligibility_floor_reads_the_ranking_phase(build):
    phased(build)  # campaign completion: B2 70/200 = 35 %; phase P2: B2 20/120 = 16.7 %
    floored = ranking(build, eligibility=[{"metric": "prem", "on": "completion", "min": "0.3"}])
    assert ranks(build, recompute(build.campaign.pk, FEB_10), floored) == {"B1": 1}


def test_monthly_figures_option_stores_month_rows_without_a_monthly_rule(build):
    phased(build)
    build.campaign.options = {"monthly_figures": ["prem"]}
    build.campaign.save()
    result = recompute(build.campaign.pk, FEB_10)
    months = MetricResult.objects.filter(result_set_id=result.pk, monthly=True, participant_id=build.participants["B1"].pk)
    assert sorted((m.period_start.month, m.actual) for m in months) == [(1, 30), (2, 50)]


def test_phase_figures_option_without_a_phase_ranking(build):
    phased(build)
    build.campaign.options = {"phase_figures": True}
    build.campaign.save()
    result = recompute(build.campaign.pk, FEB_10)
    assert PhaseResult.objects.filter(result_set_id=result.pk).count() == 4  # 2 participants × 2 begun phases


def test_participant_page_shows_each_begun_phase_against_its_share_with_time_progress(build):
    from scoring.selectors import participant_scores

    phased(build)
    ranking(build)
    recompute(build.campaign.pk, FEB_10)
    lines = participant_scores(build.campaign.pk, FEB_10, build.participants["B1"].pk).phases["prem"]
    assert [(x["phase"], x["actual"], x["target"], round(x["completion"], 4)) for x in lines] == [
        ("P1", 30, 40, D("0.75")), ("P2", 50, 60, D("0.8333"))
    ]
    # P1 is over (100 %); P2 runs 1 February – 31 March: 10 of 59 days.
    assert [round(x["time_progress"], 4) for x in lines] == [D("1"), D("0.1695")]
