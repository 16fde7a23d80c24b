"""The campaign file's ``calendar`` section: the bank's holidays and make-up working days."""

import datetime

import pytest
from django.utils import translation

from campaigns.bank_calendar import working_days
from campaigns.campaign_file import CampaignFileError, dump_yaml, export_campaign, import_campaign
from campaigns.models import CalendarDay, Campaign
from tests.campaign_file.test_campaign_file import SMALL_FILE

CALENDAR = """
calendar:
  - {date: 2027-01-01, working: false, name: 元旦}
  - {date: 2027-02-08, working: false, name: 春节}
  - {date: 2027-02-20, working: true, name: 春节调休上班}
"""


@pytest.fixture(autouse=True)
def in_english():
    with translation.override("en"):
        yield


def listed() -> dict:
    return {row.day.isoformat(): (row.working, row.name) for row in CalendarDay.objects.all()}


def test_the_files_days_go_into_the_banks_calendar_and_count(small_bank):
    import_campaign(SMALL_FILE + CALENDAR)
    assert listed() == {
        "2027-01-01": (False, "元旦"),
        "2027-02-08": (False, "春节"),
        "2027-02-20": (True, "春节调休上班"),
    }
    assert working_days(datetime.date(2027, 1, 1), datetime.date(2027, 3, 31)) == 21 - 1 + 20 - 1 + 1 + 23


def test_export_carries_the_days_within_the_campaigns_dates(small_bank):
    CalendarDay.objects.create(day=datetime.date(2026, 10, 1), working=False, name="国庆")
    campaign = import_campaign(SMALL_FILE + CALENDAR)
    assert export_campaign(campaign)["calendar"] == [
        {"date": "2027-01-01", "working": False, "name": "元旦"},
        {"date": "2027-02-08", "working": False, "name": "春节"},
        {"date": "2027-02-20", "working": True, "name": "春节调休上班"},
    ]
    copy = import_campaign(dump_yaml(campaign), code="Q1-2027-COPY")
    assert export_campaign(copy)["calendar"] == export_campaign(campaign)["calendar"]


def test_a_file_contradicting_a_listed_day_is_refused_naming_the_place(small_bank):
    # The bank's calendar is shared: another campaign (and its paid months) counted 20 February
    # as a holiday; a file may not silently turn it into a working day.
    CalendarDay.objects.create(day=datetime.date(2027, 2, 20), working=False, name="guess")
    with pytest.raises(CampaignFileError) as err:
        import_campaign(SMALL_FILE + CALENDAR)
    assert [place for place, _reason in err.value.errors] == ["calendar[2].date"]
    assert listed() == {"2027-02-20": (False, "guess")} and not Campaign.objects.exists()


def test_a_file_repeating_a_listed_day_keeps_it_and_adds_the_rest(small_bank):
    CalendarDay.objects.create(day=datetime.date(2027, 2, 8), working=False, name="春节假期")
    import_campaign(SMALL_FILE + CALENDAR)
    assert listed() == {
        "2027-01-01": (False, "元旦"),
        "2027-02-08": (False, "春节假期"),
        "2027-02-20": (True, "春节调休上班"),
    }


def test_calendar_days_are_real_dates_and_do_not_move_with_the_start(small_bank):
    import_campaign(SMALL_FILE + CALENDAR, code="Q1-2028", start_date=datetime.date(2028, 1, 1))
    assert set(listed()) == {"2027-01-01", "2027-02-08", "2027-02-20"}


def test_bad_days_are_refused_naming_the_place_and_nothing_is_written(small_bank):
    broken = """
calendar:
  - {date: soon, working: false}
  - {date: 2027-02-08, name: 春节}
  - {date: 2027-02-09, working: false}
  - {date: 2027-02-09, working: true}
"""
    with pytest.raises(CampaignFileError) as err:
        import_campaign(SMALL_FILE + broken)
    places = {place for place, _reason in err.value.errors}
    assert places == {"calendar[0].date", "calendar[1].working", "calendar[3].date"}
    assert not CalendarDay.objects.exists() and not Campaign.objects.exists()
