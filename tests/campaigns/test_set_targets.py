"""campaigns.services.set_targets: the write behind the target decomposition, all or none."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from branches.models import SubjectKind
from campaigns.models import Campaign, Metric, Participant, Target
from campaigns.services import TargetValue, set_targets


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def campaign(small_bank):
    campaign = Campaign.objects.create(code="Q1", name="开门红", start_date=datetime.date(2027, 1, 1), end_date=datetime.date(2027, 3, 31))
    for code in ("b1", "b2"):
        unit = small_bank[code]
        Participant.objects.create(campaign=campaign, subject_kind=SubjectKind.UNIT, subject_id=unit.pk, unit=unit)
    return campaign


def participant(campaign, code):
    return Participant.objects.select_related("unit").get(campaign=campaign, unit__code=code)


def test_new_changed_and_equal_targets_are_counted_and_bases_kept(campaign):
    dep = Metric.objects.create(campaign=campaign, code="dep", name="存款")
    b1, b2 = participant(campaign, "B1"), participant(campaign, "B2")
    Target.objects.create(campaign=campaign, participant=b1, metric=dep, target_value=10, base_value=500)
    Target.objects.create(campaign=campaign, participant=b2, metric=dep, target_value=20)
    written = set_targets(
        campaign=campaign,
        targets=[
            TargetValue(b1, dep, 15), TargetValue(b2, dep, 20),
            TargetValue(b1, dep, 5, period="month", month=datetime.date(2027, 2, 17)),
        ],
    )
    assert (written.new, written.changed, written.unchanged) == (1, 1, 1)
    assert Target.objects.get(participant=b1, period="campaign").base_value == 500
    assert Target.objects.get(participant=b1, period="month").period_start == datetime.date(2027, 2, 1)


@pytest.mark.parametrize(
    ("bad", "fragment"),
    [
        (lambda b1, dep: TargetValue(b1, dep, -1), "B1 · 存款 · campaign: A target cannot be negative."),
        (lambda b1, dep: TargetValue(b1, dep, 1, period="month", month=datetime.date(2027, 5, 1)), "B1 · 存款 · 2027-05"),
        (lambda b1, dep: TargetValue(b1, dep, 7), "given twice"),
    ],
)
def test_one_bad_target_writes_none_and_is_named(campaign, bad, fragment):
    dep = Metric.objects.create(campaign=campaign, code="dep", name="存款")
    b1, b2 = participant(campaign, "B1"), participant(campaign, "B2")
    with pytest.raises(ValidationError, match=fragment):
        set_targets(campaign=campaign, targets=[TargetValue(b2, dep, 3), TargetValue(b1, dep, 7), bad(b1, dep)])
    assert Target.objects.count() == 0
