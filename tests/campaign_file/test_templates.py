"""The built-in templates load, and their points schemes add up as the rulebooks say."""

import pytest
from django.core.exceptions import ValidationError

from campaigns import services
from campaigns.campaign_file import builtin_templates, import_campaign, load_template
from scoring.validation import check_weights


def test_every_rulebook_ships_as_a_template():
    assert "a-county-credit-union" in builtin_templates()


@pytest.mark.parametrize("name", builtin_templates())
def test_each_template_loads_with_points_adding_up(db, name):
    campaign = import_campaign(load_template(name), code=f"T-{name[:10]}")
    assert check_weights(campaign) is None
    assert campaign.metrics.exists()


def test_template_a_has_the_45_22_8_5_20_scheme(db):
    campaign = import_campaign(load_template("a-county-credit-union"), code="A-2027")
    points = dict(campaign.rules.values_list("code", "points"))
    assert {k: int(v) for k, v in points.items()} == {"deposits": 45, "interest": 22, "npl": 8, "card": 5, "collection": 20}


def test_a_template_without_participants_cannot_be_published(db):
    campaign = import_campaign(load_template("a-county-credit-union"), code="A-2027")
    with pytest.raises(ValidationError) as err:
        services.publish_campaign(campaign)
    assert "participants" in err.value.message_dict
