"""Campaign configuration: validation naming the field, publishing with the weight check, time progress."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from branches import services as org
from branches.models import Position, SubjectKind, UnitKind
from campaigns import selectors, services
from campaigns.models import Campaign, Metric, Participant, Phase, Target
from scoring.models import ScoringRule

START, END = datetime.date(2027, 1, 1), datetime.date(2027, 3, 31)


@pytest.fixture
def campaign(db):
    return Campaign.objects.create(code="Q1", name="开门红", start_date=START, end_date=END)


def test_time_progress_counts_the_day_itself():
    assert selectors.time_progress(start=START, end=END, day=START) == Decimal(1) / Decimal(90)
    assert selectors.time_progress(start=START, end=END, day=datetime.date(2027, 2, 14)) == Decimal("0.5")
    assert selectors.time_progress(start=START, end=END, day=datetime.date(2026, 12, 1)) == 0
    assert selectors.time_progress(start=START, end=END, day=datetime.date(2027, 6, 1)) == 1


def test_phase_time_progress_against_its_own_dates(campaign):
    week = Phase.objects.create(
        campaign=campaign, code="week", name="秒杀首卖周", start_date=START, end_date=datetime.date(2027, 1, 7),
        target_share=Decimal("0.30"),
    )
    assert week.time_progress(datetime.date(2027, 1, 2)) == Decimal(2) / Decimal(7)
    assert campaign.time_progress(datetime.date(2027, 1, 2)) == Decimal(2) / Decimal(90)


def test_phase_outside_the_campaign_is_refused_naming_the_field(campaign):
    phase = Phase(campaign=campaign, code="late", name="late", start_date=END, end_date=datetime.date(2027, 4, 30))
    with pytest.raises(ValidationError) as error:
        phase.full_clean()
    assert list(error.value.message_dict) == ["end_date"]


def test_campaign_end_before_start_is_refused(db):
    with pytest.raises(ValidationError) as error:
        Campaign(code="X", name="x", start_date=END, end_date=START).full_clean()
    assert "end_date" in error.value.message_dict


def test_negative_target_is_refused_naming_the_field(campaign, small_bank):
    p = services.add_participant(campaign=campaign, unit=small_bank["b1"])
    metric = Metric.objects.create(campaign=campaign, code="dep", name="存款")
    with pytest.raises(ValidationError) as error:
        Target(campaign=campaign, participant=p, metric=metric, target_value=Decimal(-1)).full_clean()
    assert "target_value" in error.value.message_dict


def test_staff_participant_in_a_unit_campaign_is_refused(campaign, small_bank):
    s1 = small_bank["s1"]
    with pytest.raises(ValidationError) as error:
        services.add_participant(campaign=campaign, staff=s1)
    assert "subject_kind" in error.value.message_dict


def test_ratio_of_sums_needs_numerator_and_denominator(campaign):
    metric = Metric.objects.create(campaign=campaign, code="collect", name="收回率", kind="ratio", figure="ratio_of_sums")
    with pytest.raises(ValidationError) as error:
        metric.full_clean()
    assert "components" in error.value.message_dict


def test_add_units_under_a_unit_by_kind(campaign, small_bank):
    assert services.add_units_under(campaign=campaign, under=small_bank["ho"], kinds=[UnitKind.BRANCH]) == 3
    assert services.add_units_under(campaign=campaign, under=small_bank["ho"], kinds=[UnitKind.BRANCH]) == 0


def rule(campaign, code, points, kind="completion", metric=None, parent=None):
    return ScoringRule.objects.create(
        campaign=campaign, code=code, name=code, kind=kind, metric=metric, points=Decimal(points), parent=parent
    )


@pytest.fixture
def ready(campaign, small_bank):
    services.add_participant(campaign=campaign, unit=small_bank["b1"])
    metric = Metric.objects.create(campaign=campaign, code="dep", name="存款")
    return campaign, metric


def test_publish_refuses_when_base_points_do_not_add_up_to_100(ready):
    campaign, metric = ready
    rule(campaign, "dep", 45, metric=metric)
    rule(campaign, "card", 50, metric=metric)
    rule(campaign, "bonus", 5, kind="bonus", metric=metric)  # bonus items are outside the 100
    with pytest.raises(ValidationError) as error:
        services.publish_campaign(campaign)
    assert "95" in error.value.message_dict["rules"][0]


def test_units_and_staff_side_by_side_each_add_up_to_100_on_their_own(ready, small_bank):
    campaign, metric = ready
    campaign.participant_level = "mixed"
    campaign.save()
    services.add_participant(campaign=campaign, staff=small_bank["s1"])
    for code, points, level in (("staff_dep", 100, "staff"), ("unit_dep", 60, "unit"), ("unit_loan", 40, "unit")):
        ScoringRule.objects.create(
            campaign=campaign, code=code, name=code, kind="completion", metric=metric, points=Decimal(points),
            participants={"level": level},
        )
    services.publish_campaign(campaign)  # 100 for staff, 60 + 40 for units: not 200
    campaign.refresh_from_db()
    assert campaign.status == "active"


def test_a_parts_rule_scores_the_level_of_its_parts(ready, small_bank):
    campaign, metric = ready
    campaign.participant_level = "mixed"
    campaign.save()
    services.add_participant(campaign=campaign, staff=small_bank["s1"])
    whole = rule(campaign, "deposits", 100, kind="parts")  # no filter of its own: its parts are the units'
    for code, points in (("avg", 60), ("bal", 40)):
        ScoringRule.objects.create(
            campaign=campaign, code=code, name=code, kind="completion", metric=metric, points=Decimal(points),
            parent=whole, participants={"level": "unit"},
        )
    ScoringRule.objects.create(
        campaign=campaign, code="staff_dep", name="staff", kind="completion", metric=metric, points=Decimal(100),
        participants={"level": "staff"},
    )
    services.publish_campaign(campaign)
    campaign.refresh_from_db()
    assert campaign.status == "active"


def test_a_level_whose_points_do_not_add_up_is_named(ready, small_bank):
    campaign, metric = ready
    campaign.participant_level = "mixed"
    campaign.save()
    for code, points, level in (("staff_dep", 100, "staff"), ("unit_dep", 60, "unit")):
        ScoringRule.objects.create(
            campaign=campaign, code=code, name=code, kind="completion", metric=metric, points=Decimal(points),
            participants={"level": level},
        )
    with translation.override("en"), pytest.raises(ValidationError) as error:
        services.publish_campaign(campaign)
    assert "for units add up to 60" in error.value.message_dict["rules"][0]


def test_publish_refuses_parts_that_do_not_add_up(ready):
    campaign, metric = ready
    whole = rule(campaign, "corp", 100, kind="parts")
    rule(campaign, "a", 40, metric=metric, parent=whole)
    rule(campaign, "b", 30, metric=metric, parent=whole)
    with pytest.raises(ValidationError) as error:
        services.publish_campaign(campaign)
    assert "corp" in error.value.message_dict["rules"][0]


def test_publish_makes_the_campaign_active(ready, role_users):
    campaign, metric = ready
    rule(campaign, "dep", 100, metric=metric)
    services.publish_campaign(campaign, by=role_users["planner"])
    campaign.refresh_from_db()
    assert campaign.status == "active" and campaign.published_by == role_users["planner"]


def test_staff_targets_checked_against_their_units_target(small_bank):
    units = Campaign.objects.create(code="U", name="u", start_date=START, end_date=END)
    staff = Campaign.objects.create(code="S", name="s", start_date=START, end_date=END, participant_level="staff")
    unit_metric = Metric.objects.create(campaign=units, code="dep", name="存款")
    staff_metric = Metric.objects.create(campaign=staff, code="dep", name="存款")
    b1 = services.add_participant(campaign=units, unit=small_bank["b1"])
    Target.objects.create(campaign=units, participant=b1, metric=unit_metric, target_value=Decimal(1000))
    for key, value in (("s1", 600), ("s2", 300)):  # both in B1: 900, not 1000
        p = services.add_participant(campaign=staff, staff=small_bank[key])
        Target.objects.create(campaign=staff, participant=p, metric=staff_metric, target_value=Decimal(value))
    [check] = selectors.check_staff_targets_against_units(staff_campaign=staff, unit_campaign=units, metric_code="dep")
    assert (check.unit_code, check.unit_target, check.staff_sum, check.matches) == ("B1", Decimal(1000), Decimal(900), False)


def test_staff_moved_after_the_start_counts_for_the_unit_at_the_start(small_bank):
    org.move_staff(small_bank["s2"], to_unit=small_bank["b3"], on=datetime.date(2027, 2, 1), position=Position.TELLER)
    staff = Campaign.objects.create(code="S", name="s", start_date=START, end_date=END, participant_level="staff")
    metric = Metric.objects.create(campaign=staff, code="dep", name="存款")
    p = services.add_participant(campaign=staff, staff=small_bank["s2"])
    Target.objects.create(campaign=staff, participant=p, metric=metric, target_value=Decimal(300))
    units = Campaign.objects.create(code="U", name="u", start_date=START, end_date=END)
    checks = selectors.check_staff_targets_against_units(staff_campaign=staff, unit_campaign=units, metric_code="dep")
    assert [(c.unit_id, c.staff_sum) for c in checks] == [(small_bank["b1"].pk, Decimal(300))]


def test_participant_key_matches_the_fact_key(campaign, small_bank):
    p = services.add_participant(campaign=campaign, unit=small_bank["b2"])
    assert (p.subject_kind, p.subject_id) == (SubjectKind.UNIT, small_bank["b2"].pk)
    assert Participant.objects.filter(campaign=campaign).count() == 1


def test_phase_progress_shows_each_phase_against_its_own_share(campaign):
    for code, start, end, share in (
        ("week", START, datetime.date(2027, 1, 7), "0.30"),
        ("month", datetime.date(2027, 1, 8), datetime.date(2027, 1, 31), "0.30"),
    ):
        Phase.objects.create(campaign=campaign, code=code, name=code, start_date=start, end_date=end, target_share=Decimal(share))
    week, month = selectors.phase_progress(campaign, datetime.date(2027, 1, 13))
    assert (week.time_progress, week.is_current) == (Decimal(1), False)
    assert (month.time_progress, month.is_current) == (Decimal(6) / Decimal(24), True)
    assert selectors.phase_target(campaign_target=Decimal(25_000_000), share=month.target_share) == Decimal(7_500_000)
