"""A planner corrects one figure by hand: a new version with who, when and why; nothing else may."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from branches import roles
from branches.fact_selectors import fact_history
from branches.facts import FactSource, merge_facts
from branches.models import Fact, ImportBatch, SubjectKind

DAY = datetime.date(2027, 1, 10)


@pytest.fixture
def recorded(small_bank, indicators):
    outcome = merge_facts(
        rows=[(indicators["deposits"].pk, SubjectKind.UNIT, small_bank["b1"].pk, DAY, Decimal("1000"), 1)],
        source=FactSource(kind=ImportBatch.Kind.FILE, reference="daily.csv"),
    )
    assert outcome.ok
    return indicators["deposits"]


def correct(client, indicator, **fields):
    data = {"unit_code": "B1", "indicator": indicator.pk, "business_date": DAY.isoformat(), "value": "1200",
            "reason": "网点补录漏记存款", **fields}
    return client.post(reverse("imports:figure-correct"), data)


def test_a_planners_correction_is_a_new_version_with_who_and_why(client, role_users, recorded, small_bank):
    client.force_login(role_users[roles.PLANNER])
    response = correct(client, recorded)
    assert response.status_code == 302 and "history" in response["Location"]
    fact = Fact.objects.get(indicator=recorded, subject_kind=SubjectKind.UNIT, subject_id=small_bank["b1"].pk, business_date=DAY)
    assert (fact.value, fact.previous_value, fact.version_no) == (Decimal("1200"), Decimal("1000"), 2)
    newest, older = fact_history(SubjectKind.UNIT, small_bank["b1"].pk, recorded.pk)
    assert (newest.source_kind, newest.source_reference, newest.actor) == ("manual", "网点补录漏记存款", "planner")
    assert (older.value, older.source_reference) == (Decimal("1000"), "daily.csv")


def test_a_correction_without_a_reason_or_with_a_refused_value_writes_nothing(client, role_users, recorded, indicators):
    client.force_login(role_users[roles.PLANNER])
    assert correct(client, recorded, reason="  ").status_code == 400
    response = correct(client, indicators["pos"], value="-2")  # a count may not be negative
    assert response.status_code == 400 and response.context["form"].errors["value"]
    assert Fact.objects.get(indicator=recorded).value == Decimal("1000")
    assert not Fact.objects.filter(indicator=indicators["pos"]).exists()


def test_only_planners_may_correct_figures(client, role_users, recorded):
    for role in (roles.BRANCH_MANAGER, roles.FINANCE, roles.VIEWER):
        client.force_login(role_users[role])
        assert correct(client, recorded).status_code == 403
    assert Fact.objects.get(indicator=recorded).value == Decimal("1000")


def test_the_history_page_offers_the_correction_to_planners_only(client, role_users, recorded):
    params = {"unit_code": "B1", "indicator": recorded.pk}
    client.force_login(role_users[roles.PLANNER])
    assert reverse("imports:figure-correct").encode() in client.get(reverse("imports:figure-history"), params).content
    client.force_login(role_users[roles.BRANCH_MANAGER])
    assert reverse("imports:figure-correct").encode() not in client.get(reverse("imports:figure-history"), params).content
