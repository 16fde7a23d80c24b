from django.contrib.auth import authenticate
from django.core.management import call_command

from branches.demo import ACCOUNTS
from branches.models import Staff, Unit, UnitKind


def test_demo_bank_has_five_regions_sixty_branches_six_hundred_staff(db):
    call_command("load_demo", verbosity=0)
    assert Unit.objects.filter(kind=UnitKind.REGION).count() == 5
    assert Unit.objects.filter(kind=UnitKind.BRANCH).count() == 60
    assert Staff.objects.count() == 600
    assert Staff.objects.filter(assignments__isnull=True).count() == 0


def test_loading_the_demo_twice_duplicates_nothing(db, capsys):
    call_command("load_demo")
    counts = (Unit.objects.count(), Staff.objects.count())
    call_command("load_demo")
    assert (Unit.objects.count(), Staff.objects.count()) == counts
    assert "Kmh-planner-2027" in capsys.readouterr().out


def test_every_printed_demo_account_can_log_in(db):
    call_command("load_demo", verbosity=0)
    for account in ACCOUNTS:
        assert authenticate(username=account.username, password=account.password) is not None, account.username
