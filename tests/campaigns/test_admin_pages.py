"""The admin pages of campaign and scoring configuration open for an administrator."""

import datetime

import pytest
from django.contrib.auth.models import User

from campaigns.models import Campaign

PAGES = [
    "/admin/campaigns/campaign/", "/admin/campaigns/metric/", "/admin/campaigns/participant/",
    "/admin/campaigns/target/", "/admin/campaigns/groupset/", "/admin/scoring/scoringrule/",
    "/admin/scoring/ranking/", "/admin/scoring/gate/", "/admin/scoring/resultset/",
]


@pytest.mark.parametrize("url", PAGES)
def test_admin_list_page_opens(client, db, url):
    Campaign.objects.create(code="Q1", name="开门红", start_date=datetime.date(2027, 1, 1), end_date=datetime.date(2027, 3, 31))
    admin = User.objects.create_superuser("root", "root@example.com", "correct-horse-battery-staple")
    client.force_login(admin)
    assert client.get(url).status_code == 200


def test_a_target_changed_or_deleted_in_the_admin_recomputes_the_computed_days(client, db, queued_recomputes, django_capture_on_commit_callbacks):
    from django.utils import timezone

    from branches.models import SubjectKind, Unit
    from campaigns.models import Metric, Participant, Target
    from scoring.models import ResultSet

    campaign = Campaign.objects.create(
        code="Q1", name="开门红", start_date=datetime.date(2027, 1, 1), end_date=datetime.date(2027, 3, 31), status="active"
    )
    unit = Unit.objects.create(code="B1", name="城关支行", kind="branch")
    participant = Participant.objects.create(campaign=campaign, subject_kind=SubjectKind.UNIT, subject_id=unit.pk, unit=unit)
    metric = Metric.objects.create(campaign=campaign, code="dep", name="存款")
    target = Target.objects.create(campaign=campaign, participant=participant, metric=metric, target_value=100)
    ResultSet.objects.create(campaign=campaign, business_date=datetime.date(2027, 1, 10), version=1, is_current=True, computed_at=timezone.now())
    client.force_login(User.objects.create_superuser("root", "root@example.com", "correct-horse-battery-staple"))
    url = f"/admin/campaigns/target/{target.pk}/change/"
    form = {
        "campaign": campaign.pk, "participant": participant.pk, "metric": metric.pk, "period": "campaign",
        "phase": "", "month": "", "target_value": "150", "base_value": "",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, form)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Target.objects.get(pk=target.pk).target_value == 150
    assert queued_recomputes == [(campaign.pk, "2027-01-10")]
    # Moved to February: January's computed day loses the target, so it is recomputed too.
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {**form, "period": "month", "month": "2027-02-01"})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Target.objects.get(pk=target.pk).period_start == datetime.date(2027, 2, 1)
    assert queued_recomputes == [(campaign.pk, "2027-01-10")] * 2
    ResultSet.objects.create(campaign=campaign, business_date=datetime.date(2027, 2, 10), version=1, is_current=True, computed_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/admin/campaigns/target/{target.pk}/delete/", {"post": "yes"})
    assert not Target.objects.filter(pk=target.pk).exists()
    # A February target: February's computed day only.
    assert queued_recomputes == [(campaign.pk, "2027-01-10")] * 2 + [(campaign.pk, "2027-02-10")]
