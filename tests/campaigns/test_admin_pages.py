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
