import datetime

from django.contrib.auth import authenticate
from django.core.management import call_command

from branches.demo import ACCOUNTS, load_demo_bank
from branches.models import Fact, Staff, Unit, UnitKind
from campaigns.models import Campaign, CampaignStatus
from scoring.models import ResultSet


def test_demo_bank_has_five_regions_sixty_branches_six_hundred_staff(db):
    load_demo_bank()
    assert Unit.objects.filter(kind=UnitKind.REGION).count() == 5
    assert Unit.objects.filter(kind=UnitKind.BRANCH).count() == 60
    assert Staff.objects.count() == 600
    assert Staff.objects.filter(assignments__isnull=True).count() == 0


def test_every_printed_demo_account_can_log_in(db):
    load_demo_bank()
    for account in ACCOUNTS:
        assert authenticate(username=account.username, password=account.password) is not None, account.username


def test_make_run_demo_twice_gives_one_scored_campaign_and_no_duplicates(db, capsys):
    call_command("load_demo")
    counts = (Unit.objects.count(), Staff.objects.count(), Fact.objects.count(), ResultSet.objects.count())
    call_command("load_demo")
    assert (Unit.objects.count(), Staff.objects.count(), Fact.objects.count(), ResultSet.objects.count()) == counts
    campaign = Campaign.objects.get(code="DEMO-2026Q1")
    assert campaign.status == CampaignStatus.ACTIVE
    assert campaign.participants.count() == 60
    # Every day of the quarter has a current board.
    assert ResultSet.objects.filter(campaign=campaign, is_current=True).count() == 90
    assert ResultSet.objects.filter(campaign=campaign, business_date=datetime.date(2026, 3, 31), is_current=True).get().participant_count == 60
    assert "Kmh-planner-2027" in capsys.readouterr().out


def test_make_run_rescores_the_demo_days_whose_results_were_dropped(db):
    # A migration that rebuilds the result tables drops every result set; the next `make run` scores again.
    call_command("load_demo")
    campaign = Campaign.objects.get(code="DEMO-2026Q1")
    ResultSet.objects.filter(campaign=campaign, business_date__gte=datetime.date(2026, 3, 1)).delete()
    assert ResultSet.objects.filter(campaign=campaign, is_current=True).count() == 59
    call_command("load_demo")
    assert ResultSet.objects.filter(campaign=campaign, is_current=True).count() == 90
    assert ResultSet.objects.filter(campaign=campaign, business_date=datetime.date(2026, 3, 31), is_current=True).get().participant_count == 60
