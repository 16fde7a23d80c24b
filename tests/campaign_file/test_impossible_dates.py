"""A date that cannot exist in a campaign file is an error naming its line, not a crash."""

import pytest

from campaigns.campaign_file import CampaignFileError, parse_yaml


def test_an_unquoted_impossible_date_names_its_line():
    text = "campaign:\n  code: X\n  start_date: 2027-01-01\n  end_date: 2027-02-30\n"
    with pytest.raises(CampaignFileError) as caught:
        parse_yaml(text)
    ((where, message),) = caught.value.errors
    assert "4" in str(where)
    assert "2027-02-30" in str(message)


def test_possible_dates_still_read_as_dates():
    import datetime

    doc = parse_yaml("campaign:\n  start_date: 2028-02-29\n")
    assert doc["campaign"]["start_date"] == datetime.date(2028, 2, 29)
