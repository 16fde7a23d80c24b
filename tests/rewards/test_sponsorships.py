"""Sponsored institutions (承包社, rulebook B clause 9): configured on the scheme, shown in statements."""

from __future__ import annotations

import io
from decimal import Decimal

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from branches.models import SubjectKind
from campaigns.campaign_file import CampaignFileError, export_campaign, import_campaign, load_template
from rewards import sponsorship
from rewards.models import PayoutLine, PeriodKind, RewardScheme
from rewards.services import create_payout_run
from tests.rewards.conftest import JAN_END, Q1_START, settle

LINKS = [{"staff": "E001", "units": ["B1", "B9"]}, {"staff": "E002", "through": "E001"}]


@pytest.mark.parametrize(
    ("links", "field"),
    [
        ({"staff": "E001"}, "sponsorships"),
        ([{"units": ["B1"]}], "sponsorships[0].staff"),
        ([{"staff": "E001"}], "sponsorships[0]"),
        ([{"staff": "E001", "units": ["B1"], "through": "E009"}], "sponsorships[0]"),
        ([{"staff": "E001", "units": []}], "sponsorships[0].units"),
        ([{"staff": "E002", "through": "E009"}], "sponsorships[0].through"),
        ([{"staff": "E001", "units": ["B1"]}, {"staff": "E001", "units": ["B2"]}], "sponsorships[1].staff"),
    ],
)
def test_malformed_sponsorships_are_refused_naming_the_field(links, field):
    with pytest.raises(ValidationError) as error:
        sponsorship.validate(links)
    assert error.value.messages[0].startswith(field)


def test_a_campaign_file_carries_the_links_and_refuses_a_malformed_one(db):
    doc = load_template("b-district-deposit-contest")
    doc["rewards"][0]["sponsorships"] = LINKS
    campaign = import_campaign(doc, code="B-LINKS")
    assert RewardScheme.objects.get(campaign_code="B-LINKS").sponsorships == LINKS
    assert export_campaign(campaign)["rewards"][0]["sponsorships"] == LINKS

    doc["rewards"][0]["sponsorships"] = [{"staff": "E002", "through": "E001"}]
    with pytest.raises(CampaignFileError) as error:
        import_campaign(doc, code="B-BAD")
    assert any(place == "rewards[0]" and "sponsorships[0].through" in message for place, message in error.value.errors)


@pytest.fixture
def linked(scheme, finance, small_bank):
    """E001 sponsors B1 and B9 (no such unit); E002 reports to E001. B1 was paid 5,000 in a locked
    run, and E002 500 (a person's own line, not the institution's)."""
    scheme.sponsorships = LINKS
    scheme.full_clean()
    scheme.save()
    run = create_payout_run(
        scheme=scheme, period_kind=PeriodKind.MONTH, period_start=Q1_START, period_end=JAN_END,
        by=finance["maker"], calculate=False,
    )
    for kind, payee, employee_no, unit, amount in (
        (SubjectKind.UNIT, small_bank["b1"].pk, "", small_bank["b1"], "5000"),
        (SubjectKind.STAFF, small_bank["s2"].pk, "E002", small_bank["b1"], "500"),
    ):
        PayoutLine.objects.create(
            run=run, payee_kind=kind, payee_id=payee, payee_name="x", employee_no=employee_no, unit_code=unit.code,
            unit_name=unit.name, rule_name="计件", period_start=Q1_START, period_end=JAN_END, amount=Decimal(amount),
        )
    settle(run, finance)
    return small_bank


def test_the_statement_of_a_middle_manager_shows_the_directors_institutions(client, linked, finance):
    client.force_login(finance["maker"])
    page = client.get(reverse("rewards:staff_statement", args=[linked["s2"].pk]))
    sponsored = page.context["sponsored"]
    assert [(row.unit_code, row.unit_name, row.through, row.as_of, row.paid) for row in sponsored] == [
        ("B1", "城关信用社", "E001", JAN_END, Decimal("5000.00")),
        ("B9", "", "E001", JAN_END, Decimal("0.00")),  # a code naming no unit is shown as such
    ]
    body = page.content.decode()
    assert "5,000.00" in body and "500.00" in body  # the institution's rewards and the person's own line


def test_the_statement_sheet_has_a_sheet_of_sponsored_institutions(client, linked, finance):
    client.force_login(finance["maker"])
    sheet = client.get(reverse("rewards:staff_statement", args=[linked["s1"].pk]) + "?format=xlsx")
    book = openpyxl.load_workbook(io.BytesIO(sheet.content))
    assert book.sheetnames == ["明细", "承包社"]
    rows = list(book["承包社"].iter_rows(values_only=True))
    assert rows[0][:3] == ("奖励方案", "承包社机构号", "机构名称")
    assert [(row[1], row[2], row[3], row[7]) for row in rows[1:]] == [("B1", "城关信用社", None, 5000), ("B9", None, None, 0)]


def test_a_unit_statement_sheet_has_the_lines_only(client, linked, finance):
    client.force_login(finance["maker"])
    sheet = client.get(reverse("rewards:unit_statement", args=["B1"]) + "?format=xlsx")
    assert openpyxl.load_workbook(io.BytesIO(sheet.content)).sheetnames == ["明细"]
