"""Units and staff side by side in one campaign: own facts, rules and rankings limited by level."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from branches.models import SubjectKind, UnitKind
from scoring.engine import recompute
from scoring.models import Gate, Ranking
from tests.scoring.helpers import figures, ranks, rule_points, totals

DAY = datetime.date(2027, 1, 31)


def mixed(build):
    """Branches B1, B2 and their staff S1 (of B1), S2 (of B2); one deposit indicator for both levels."""
    build.campaign.participant_level = "mixed"
    build.campaign.save()
    build.branches("B1", "B2")
    build.people("S1", unit="B1")
    build.people("S2", unit="B2")
    build.metric("dep")
    build.facts("dep", DAY, B1=500, B2=300, S1=40, S2=60)
    for code in ("B1", "B2", "S1", "S2"):
        build.target("dep", code, 100 if code.startswith("S") else 1000)
    return build


def ranking(build, code, **fields):
    r = Ranking(campaign=build.campaign, code=code, name=code, **fields)
    r.full_clean()
    r.save()
    return r


def test_each_participant_reads_the_facts_of_its_own_kind(build):
    mixed(build)
    result = recompute(build.campaign.pk, DAY)
    assert figures(build, result, "dep") == {"B1": 500, "B2": 300, "S1": 40, "S2": 60}


def test_a_staff_ranking_never_mixes_with_units(build):
    mixed(build)
    staff = ranking(build, "staff", basis="metric_figure", metric=build.metrics["dep"], participants={"level": "staff"})
    units = ranking(build, "units", basis="metric_figure", metric=build.metrics["dep"], participants={"level": "unit"})
    result = recompute(build.campaign.pk, DAY)
    assert ranks(build, result, staff) == {"S2": 1, "S1": 2}
    assert ranks(build, result, units) == {"B1": 1, "B2": 2}


def test_a_rule_for_staff_only_scores_staff(build):
    mixed(build)
    rule = build.rule("dep_staff", "completion", "dep", 10, participants={"level": "staff"}, params={"cap": 2})
    result = recompute(build.campaign.pk, DAY)
    assert rule_points(build, result, rule) == {"S1": 4, "S2": 6}
    assert totals(build, result) == {"B1": 0, "B2": 0, "S1": 4, "S2": 6}


def test_relative_to_best_takes_the_best_among_the_rules_participants(build):
    mixed(build)
    rule = build.rule("dep_units", "relative_to_best", "dep", 10, participants={"level": "unit"})
    result = recompute(build.campaign.pk, DAY)
    assert rule_points(build, result, rule) == {"B1": 10, "B2": 6}


def test_ranking_limited_to_a_unit_kind_and_category(build):
    build.branches("B1", "B2", category="直管机构")
    build.branches("O1", "O2", kind=UnitKind.OUTLET, category="储蓄所")
    build.metric("dep")
    build.facts("dep", DAY, B1=5, B2=9, O1=7, O2=3)
    outlets = ranking(build, "outlets", basis="metric_figure", metric=build.metrics["dep"], participants={"unit_kinds": ["outlet"]})
    direct = ranking(build, "direct", basis="metric_figure", metric=build.metrics["dep"], participants={"categories": ["直管机构"]})
    result = recompute(build.campaign.pk, DAY)
    assert ranks(build, result, outlets) == {"O1": 1, "O2": 2}
    assert ranks(build, result, direct) == {"B2": 1, "B1": 2}


def test_a_unit_campaign_still_refuses_a_staff_participant(build):
    build.branches("B1")
    with pytest.raises(ValidationError) as caught:
        build.people("S1", unit="B1")
    assert "subject_kind" in caught.value.message_dict


def test_a_mixed_campaign_has_no_single_subject_kind(build):
    build.campaign.participant_level = "mixed"
    assert build.campaign.subject_kind is None
    build.campaign.participant_level = "staff"
    assert build.campaign.subject_kind == SubjectKind.STAFF


def test_a_bad_participant_filter_names_the_field(build):
    build.branches("B1")
    build.metric("dep")
    with pytest.raises(ValidationError) as caught:
        ranking(build, "bad", participants={"level": "region"})
    assert "participants" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        ranking(build, "bad2", participants={"unit_kinds": ["castle"]})
    assert "castle" in caught.value.message_dict["participants"][0]


def test_a_gate_limited_to_staff_never_vetoes_a_unit(build):
    mixed(build)
    build.metric("card")
    build.facts("card", DAY, S1=10, S2=50)  # units have no card figure: "missing" would count as below
    gate = Gate(campaign=build.campaign, code="card", name="card", kind="metric_below", metric=build.metrics["card"],
                minimum=30, participants={"level": "staff"})
    gate.full_clean()
    gate.save()
    overall = ranking(build, "all", basis="metric_figure", metric=build.metrics["dep"])
    assert ranks(build, recompute(build.campaign.pk, DAY), overall) == {"B1": 1, "B2": 2, "S2": 3}


def test_one_staff_member_below_the_floor_vetoes_their_unit(build):
    mixed(build)
    build.people("S3", unit="B1")
    build.metric("card")
    build.facts("card", DAY, S1=40, S3=20, S2=35)  # B1's S3 made 20 of 30 card payments
    gate = Gate(campaign=build.campaign, code="card", name="card", kind="staff_below", metric=build.metrics["card"], minimum=30)
    gate.full_clean()
    gate.save()
    units = ranking(build, "units", basis="metric_figure", metric=build.metrics["dep"], participants={"level": "unit"})
    result = recompute(build.campaign.pk, DAY)
    assert ranks(build, result, units) == {"B2": 1}
    assert totals(build, result, "vetoed") == {"B1": True, "B2": False, "S1": False, "S2": False, "S3": False}
