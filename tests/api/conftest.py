"""API fixtures: system accounts with tokens, and a small computed campaign on the small bank."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.utils import translation
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from branches.api_models import ApiClient
from branches.models import Fact, Indicator, Measure, SubjectKind
from campaigns.models import (
    Campaign,
    Group,
    GroupMembership,
    GroupSet,
    Metric,
    MetricComponent,
    Participant,
    Target,
)
from scoring.models import Ranking, ScoringRule

DAY = datetime.date(2027, 1, 31)


@pytest.fixture(autouse=True)
def isolated_var(settings, tmp_path):
    settings.VAR_DIR = tmp_path / "var"


def token_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


@pytest.fixture
def make_system_account(db):
    def make(name, *, scope_unit=None, can_write=True):
        user = User.objects.create_user(username=f"sys-{name}")
        ApiClient.objects.create(user=user, name=name, scope_unit=scope_unit, can_write_figures=can_write)
        return token_client(user)

    return make


@pytest.fixture
def indicators(db):
    return {
        "DEP_BAL": Indicator.objects.create(code="DEP_BAL", name="存款余额", measure=Measure.AMOUNT),
        "POS": Indicator.objects.create(code="POS", name="POS布放", measure=Measure.COUNT),
        "COLL_RATE": Indicator.objects.create(code="COLL_RATE", name="到期贷款收回率", measure=Measure.RATE),
    }


@pytest.fixture
def campaign(small_bank, indicators):
    return Campaign.objects.create(
        code="Q1", name="开门红", start_date=datetime.date(2027, 1, 1), end_date=datetime.date(2027, 3, 31), status="active"
    )


@pytest.fixture
def scored_campaign(small_bank, campaign, indicators):
    """B1, B2 (region R1) and B3 (R2) score their deposit increase over a target of 100 (≤ 100 points)."""
    from scoring.engine import recompute

    metric = Metric.objects.create(campaign=campaign, code="dep", name="存款", figure="increase_over_base", kind="balance")
    MetricComponent.objects.create(metric=metric, indicator=indicators["DEP_BAL"], sign=1)
    regions = GroupSet.objects.create(campaign=campaign, code="region", name="片区")
    groups = {code: Group.objects.create(group_set=regions, code=code, name=code) for code in ("east", "west")}
    participants = {}
    for code, increase, region in (("b1", 90, "east"), ("b2", 80, "east"), ("b3", 70, "west")):
        unit = small_bank[code]
        participants[code] = Participant.objects.create(campaign=campaign, subject_kind=SubjectKind.UNIT, subject_id=unit.pk, unit=unit)
        GroupMembership.objects.create(group=groups[region], participant=participants[code])
        Fact.objects.create(
            indicator=indicators["DEP_BAL"], subject_kind=SubjectKind.UNIT, subject_id=unit.pk, business_date=DAY,
            value=Decimal(1000 + increase),
        )
        Target.objects.create(campaign=campaign, participant=participants[code], metric=metric, target_value=100, base_value=1000)
    rule = ScoringRule(campaign=campaign, code="dep", name="存款", kind="completion", metric=metric, points=Decimal(100), params={})
    rule.full_clean()
    rule.save()
    for code, group_set in (("overall", None), ("by_region", regions)):
        ranking = Ranking(campaign=campaign, code=code, name=code, group_set=group_set)
        ranking.full_clean()
        ranking.save()
    recompute(campaign.pk, DAY)
    return participants


@pytest.fixture(autouse=True)
def english(settings):
    """Assertions read the English messages; one test checks the Chinese ones explicitly."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield
