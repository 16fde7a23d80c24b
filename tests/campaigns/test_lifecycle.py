"""A campaign's status moves draft → active → closed → archived, only through checked steps; the
staff-versus-unit target check is shown to the planner."""

import datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError

from campaigns import services
from campaigns.models import Campaign, Metric, Target

START, END = datetime.date(2027, 1, 1), datetime.date(2027, 3, 31)


@pytest.fixture
def admin_client(client, db):
    client.force_login(User.objects.create_superuser("root", "root@example.com", "correct-horse-battery-staple"))
    return client


def test_only_a_closed_campaign_can_be_archived(db):
    campaign = Campaign.objects.create(code="Q1", name="开门红", start_date=START, end_date=END, status="active")
    with pytest.raises(ValidationError) as error:
        services.archive_campaign(campaign)
    assert "status" in error.value.message_dict
    services.close_campaign(campaign)
    services.archive_campaign(campaign)
    campaign.refresh_from_db()
    assert campaign.status == "archived"


def test_the_admin_cannot_turn_a_closed_campaign_active_by_editing_its_status(admin_client):
    campaign = Campaign.objects.create(code="Q1", name="开门红", start_date=START, end_date=END, status="closed")
    page = admin_client.get(f"/admin/campaigns/campaign/{campaign.pk}/change/")
    assert page.status_code == 200 and b'name="status"' not in page.content


def test_the_admin_actions_close_and_archive_in_order(admin_client):
    campaign = Campaign.objects.create(code="Q1", name="开门红", start_date=START, end_date=END, status="active")
    url = "/admin/campaigns/campaign/"
    response = admin_client.post(url, {"action": "archive", "_selected_action": [campaign.pk]}, follow=True)
    # the planner reads the refusal in Chinese: only a closed campaign can be archived
    assert any("只有已结束的活动才能归档" in str(m) for m in get_messages(response.wsgi_request))
    admin_client.post(url, {"action": "close", "_selected_action": [campaign.pk]})
    admin_client.post(url, {"action": "archive", "_selected_action": [campaign.pk]})
    campaign.refresh_from_db()
    assert campaign.status == "archived"


def test_the_admin_warns_of_each_unit_whose_staff_targets_do_not_add_up(admin_client, small_bank):
    units = Campaign.objects.create(code="U", name="u", start_date=START, end_date=END)
    staff = Campaign.objects.create(code="S", name="s", start_date=START, end_date=END, participant_level="staff")
    for campaign in (units, staff):
        Metric.objects.create(campaign=campaign, code="dep", name="存款")
    for unit, target in (("b1", 1000), ("b3", 500)):
        p = services.add_participant(campaign=units, unit=small_bank[unit])
        Target.objects.create(campaign=units, participant=p, metric=units.metrics.get(), target_value=Decimal(target))
    # B1's staff add up to 900 (not 1000); B3's one member carries its 500
    for key, value in (("s1", 600), ("s2", 300), ("s3", 500)):
        p = services.add_participant(campaign=staff, staff=small_bank[key])
        Target.objects.create(campaign=staff, participant=p, metric=staff.metrics.get(), target_value=Decimal(value))
    response = admin_client.post(
        "/admin/campaigns/campaign/", {"action": "check_staff_targets", "_selected_action": [units.pk, staff.pk]}, follow=True
    )
    messages = [str(m) for m in get_messages(response.wsgi_request)]
    assert messages == ["B1 dep：人员任务合计 900，机构任务为 1000。"]
