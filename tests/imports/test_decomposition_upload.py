"""Splitting uploaded targets (任务分解): a file of units' targets, split to sub-units or staff
equally, by weights or by last year's figures, previewed with the sums checked, then written as
the campaign's targets — and the split's CSV goes back in through the target import."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from branches import roles, services
from branches.imports.kinds import apply_file, preview_file
from branches.models import Fact, SubjectKind
from campaigns.models import Metric, MetricComponent, Participant, Phase, Target
from tests.imports.conftest import csv_bytes, write


@pytest.fixture
def campaign(small_bank, quarter_campaign, indicators):
    """Deposits (an amount) and POS terminals (a count); participants B1, B2, B3 and E001, E002, E004."""
    dep = Metric.objects.create(campaign=quarter_campaign, code="dep", name="存款", position=1)
    pos = Metric.objects.create(campaign=quarter_campaign, code="pos", name="POS", measure="count", position=2)
    Metric.objects.create(campaign=quarter_campaign, code="coll", name="收回率", measure="rate", position=3)
    MetricComponent.objects.create(metric=dep, indicator=indicators["deposits"])
    MetricComponent.objects.create(metric=pos, indicator=indicators["pos"])
    for code in ("b1", "b2", "b3"):
        unit = small_bank[code]
        Participant.objects.create(campaign=quarter_campaign, subject_kind=SubjectKind.UNIT, subject_id=unit.pk, unit=unit)
    for code in ("s1", "s2", "s4"):
        person = small_bank[code]
        Participant.objects.create(campaign=quarter_campaign, subject_kind=SubjectKind.STAFF, subject_id=person.pk, staff=person)
    return quarter_campaign


@pytest.fixture
def planner(client, role_users):
    client.force_login(role_users[roles.PLANNER])
    return client


def upload(client, campaign, rows, *, name="targets.csv", weights_file=None, **choices):
    data = {
        "campaign": campaign.pk, "level": "units", "method": "equal", "amount_quantum": "0.01",
        "targets_file": SimpleUploadedFile(name, csv_bytes(rows)), **choices,
    }
    if weights_file is not None:
        data["weights_file"] = SimpleUploadedFile("weights.csv", csv_bytes(weights_file))
    response = client.post(reverse("imports:decompose"), data)
    assert response.status_code == 302, response.context and response.context["form"].errors
    return response["Location"]


def shares(page) -> dict[tuple[str, str], Decimal]:
    plan = page.context["plan"]
    return {(line.participant.code, split.metric.code): line.share for split in plan.splits for line in split.shares}


def targets(campaign) -> dict[tuple[str, str], Decimal]:
    return {
        (t.participant.code, t.metric.code): t.target_value
        for t in Target.objects.filter(campaign=campaign).select_related("participant__unit", "participant__staff", "metric")
    }


def test_an_equal_split_is_previewed_with_the_sums_checked_and_written_on_confirm(planner, campaign):
    preview_url = upload(planner, campaign, [["机构号", "存款", "POS"], ["R1", "100", "7"]], remainder_to="B1")
    page = planner.get(preview_url)
    assert page.status_code == 200 and page.context["plan"].ok
    # 7 terminals in whole numbers: B2's 3.5 rounds half up to 4, B1 takes the remainder, 3.
    assert shares(page) == {("B1", "dep"): Decimal("50.00"), ("B2", "dep"): Decimal("50.00"), ("B1", "pos"): 3, ("B2", "pos"): 4}
    assert all(split.share_sum == split.total for split in page.context["plan"].splits)
    assert Target.objects.count() == 0
    done = planner.post(preview_url)
    assert done.status_code == 200 and done.context["written"].new == 4
    assert targets(campaign) == {("B1", "dep"): 50, ("B2", "dep"): 50, ("B1", "pos"): 3, ("B2", "pos"): 4}


def test_the_splits_csv_goes_in_through_the_target_import(planner, campaign, tmp_path):
    rows = [["机构号", "期间", "存款(万元)", "POS"], ["R1", "", "1", "7"], ["R1", "2027-02", "0.3", ""]]
    preview_url = upload(planner, campaign, rows, remainder_to="B2")
    body = planner.get(preview_url, {"format": "csv"}).content
    assert body.decode("utf-8-sig").splitlines()[0] == "机构号,期间,dep,pos"
    path = write(tmp_path, "split.csv", body)
    preview = preview_file("targets", path, filename="split.csv", options={"campaign_id": campaign.pk})
    assert preview.ok, (preview.file_errors, [f.errors for f in preview.fates])
    apply_file("targets", path, filename="split.csv", options={"campaign_id": campaign.pk})
    written = {(t.participant.code, t.metric.code, t.period, t.target_value) for t in Target.objects.select_related("participant__unit", "metric")}
    assert written == {
        ("B1", "dep", "campaign", Decimal("5000")), ("B2", "dep", "campaign", Decimal("5000")),
        ("B1", "pos", "campaign", 4), ("B2", "pos", "campaign", 3),  # B2 takes the remainder
        ("B1", "dep", "month", Decimal("1500")), ("B2", "dep", "month", Decimal("1500")),
    }


def test_sub_units_closed_before_the_campaign_are_left_out_and_said_so(planner, campaign, small_bank):
    services.close_unit(small_bank["b2"], on=datetime.date(2026, 12, 31))
    page = planner.get(upload(planner, campaign, [["机构号", "存款"], ["R1", "100"]], remainder_to="B1"))
    assert shares(page) == {("B1", "dep"): Decimal("100.00")}
    assert any("B2" in note and "closed on 2026-12-31" in note for note in page.context["plan"].notes)


def test_sub_units_that_do_not_take_part_are_left_out_and_said_so(planner, campaign, small_bank):
    page = planner.get(upload(planner, campaign, [["机构号", "存款"], ["B1", "100"]], remainder_to="O1"))
    plan = page.context["plan"]
    assert not plan.ok and plan.splits == []
    assert [(e.row_no, e.column) for e in plan.errors] == [(2, "机构号")] and "no sub-unit of B1" in plan.errors[0].message
    assert any("O1" in note and "not a participant" in note for note in plan.notes)


def test_weights_pasted_from_excel(planner, campaign):
    page = planner.get(
        upload(planner, campaign, [["机构号", "存款"], ["R1", "100"]], method="weights", weights="B1\t3\nB2\t1\n", remainder_to="B1")
    )
    assert shares(page) == {("B1", "dep"): Decimal("75.00"), ("B2", "dep"): Decimal("25.00")}


def test_weights_from_a_file_per_metric_or_for_all(planner, campaign):
    weights = [["机构号", "权重", "POS"], ["B1", "1", "9"], ["B2", "1", "1"]]
    page = planner.get(
        upload(planner, campaign, [["机构号", "存款", "POS"], ["R1", "100", "10"]], method="weights", weights_file=weights, remainder_to="B2")
    )
    assert shares(page) == {("B1", "dep"): 50, ("B2", "dep"): 50, ("B1", "pos"): 9, ("B2", "pos"): 1}


def test_a_participant_without_a_weight_is_an_error(planner, campaign):
    page = planner.get(
        upload(planner, campaign, [["机构号", "存款"], ["R1", "100"]], method="weights", weights="B1 3", remainder_to="B1")
    )
    plan = page.context["plan"]
    assert [(e.row_no, e.column) for e in plan.errors] == [(2, "存款")] and "no weight for B2" in plan.errors[0].message


def test_last_years_figures_over_a_range_set_the_proportions(planner, campaign, small_bank, indicators):
    # Daily balances of January 2026: B1 holds three times B2's on average; B2's February counts too.
    for day in range(1, 32):
        for unit, value in (("b1", 300), ("b2", 100)):
            Fact.objects.create(
                indicator=indicators["deposits"], subject_kind=SubjectKind.UNIT, subject_id=small_bank[unit].pk,
                business_date=datetime.date(2026, 1, day), value=value,
            )
    Fact.objects.create(
        indicator=indicators["deposits"], subject_kind=SubjectKind.UNIT, subject_id=small_bank["b2"].pk,
        business_date=datetime.date(2026, 2, 1), value=99999,
    )
    rows = [["机构号", "存款"], ["R1", "1000"]]
    january = planner.get(
        upload(planner, campaign, rows, method="last_year", last_year_from="2026-01-01", last_year_to="2026-01-31", remainder_to="B1")
    )
    assert shares(january) == {("B1", "dep"): Decimal("750.00"), ("B2", "dep"): Decimal("250.00")}
    # Empty dates: the campaign's own dates a year earlier (2026-01-01 to 2026-03-31), February included.
    quarter = planner.get(upload(planner, campaign, rows, method="last_year", remainder_to="B1"))
    assert shares(quarter)[("B2", "dep")] > Decimal("500")


def test_staff_level_splits_among_the_units_staff_on_the_date(planner, campaign, small_bank):
    # B1 has E001 and E002, and E004 at its outlet O1; E003 (B3) is elsewhere.
    page = planner.get(upload(planner, campaign, [["机构号", "存款"], ["B1", "300"]], level="staff", remainder_to="E004"))
    assert shares(page) == {("E001", "dep"): 100, ("E002", "dep"): 100, ("E004", "dep"): 100}
    assert planner.get(page.request["PATH_INFO"], {"format": "csv"}).content.decode("utf-8-sig").splitlines()[0] == "工号,dep"


def test_the_rounding_remainder_column_names_someone_per_row(planner, campaign):
    # 50.015 each rounds half up to 50.02; the one named takes what is left, 50.01.
    rows = [["机构号", "存款", "尾差承担"], ["R1", "100.03", "B2"]]
    page = planner.get(upload(planner, campaign, rows, remainder_to="B1"))
    assert shares(page) == {("B1", "dep"): Decimal("50.02"), ("B2", "dep"): Decimal("50.01")}
    assert [line.takes_remainder for line in page.context["plan"].splits[0].shares] == [False, True]


@pytest.mark.parametrize(
    ("rows", "choices", "column", "fragment"),
    [
        ([["机构号", "存款"], ["ZZ", "1"]], {"remainder_to": "B1"}, "机构号", "no unit with code ZZ"),
        ([["机构号", "存款"], ["R1", "-5"]], {"remainder_to": "B1"}, "存款", "cannot be negative"),
        ([["机构号", "收回率"], ["R1", "0.98"]], {"remainder_to": "B1"}, "收回率", "rates do not add up"),
        ([["机构号", "存款"], ["R1", "5"]], {}, "rounding remainder to (尾差承担)", "name who takes the rounding remainder"),
        ([["机构号", "存款"], ["R1", "5"]], {"remainder_to": "B3"}, "rounding remainder to (尾差承担)", "B3, named to take"),
        ([["机构号", "存款"], ["R1", "5"], ["R1", "6"]], {"remainder_to": "B1"}, "存款", "already gets a share"),
    ],
)
def test_errors_name_row_and_column_and_nothing_can_be_confirmed(planner, campaign, rows, choices, column, fragment):
    preview_url = upload(planner, campaign, rows, **choices)
    plan = planner.get(preview_url).context["plan"]
    assert not plan.ok
    assert any(e.column == column and fragment in e.message for e in plan.errors), plan.errors
    assert planner.post(preview_url).status_code == 409
    assert planner.get(preview_url, {"format": "csv"}).status_code == 409
    assert Target.objects.count() == 0


def test_a_unit_and_its_own_sub_unit_in_one_staff_split_is_refused(planner, campaign):
    # E004 works at O1, under B1: listing both would give E004 two targets for one metric.
    page = planner.get(upload(planner, campaign, [["机构号", "存款"], ["B1", "300", ""], ["O1", "50"]], level="staff", remainder_to="E004"))
    errors = page.context["plan"].errors
    assert [(e.row_no, e.column) for e in errors] == [(3, "存款")] and "E004 already gets a share of 存款 from row 2" in errors[0].message


def test_confirm_works_the_split_out_again_and_writes_nothing_when_it_fails(planner, campaign, small_bank):
    preview_url = upload(planner, campaign, [["机构号", "存款"], ["R1", "100"]], remainder_to="B1")
    assert planner.get(preview_url).context["plan"].ok
    Participant.objects.filter(campaign=campaign, unit=small_bank["b1"]).delete()  # the named participant is gone
    response = planner.post(preview_url)
    assert response.status_code == 409 and "B1, named to take" in response.content.decode()
    assert Target.objects.count() == 0


def test_existing_targets_show_old_and_new_and_are_updated_with_their_base_kept(planner, campaign, small_bank):
    b1 = Participant.objects.get(campaign=campaign, unit=small_bank["b1"])
    Target.objects.create(campaign=campaign, participant=b1, metric=Metric.objects.get(code="dep"), target_value=40, base_value=900)
    preview_url = upload(planner, campaign, [["机构号", "存款"], ["R1", "100"]], remainder_to="B1")
    lines = {line.participant.code: (line.old, line.fate) for line in planner.get(preview_url).context["plan"].splits[0].shares}
    assert lines == {"B1": (Decimal("40"), "changed"), "B2": (None, "new")}
    written = planner.post(preview_url).context["written"]
    assert (written.new, written.changed, written.unchanged) == (1, 1, 0)
    target = Target.objects.get(participant=b1)
    assert (target.target_value, target.base_value) == (Decimal("50"), Decimal("900"))


def test_phase_targets_are_split_too(planner, campaign):
    Phase.objects.create(campaign=campaign, code="P1", name="开门", start_date=datetime.date(2027, 1, 1), end_date=datetime.date(2027, 1, 31))
    planner.post(upload(planner, campaign, [["机构号", "期间", "POS"], ["R1", "P1", "5"]], remainder_to="B2"))
    assert {(t.participant.code, t.period, t.phase.code, t.target_value) for t in Target.objects.select_related("participant__unit", "phase")} == {
        ("B1", "phase", "P1", 3), ("B2", "phase", "P1", 2)
    }


@pytest.mark.parametrize("role", [roles.BRANCH_MANAGER, roles.FINANCE, roles.STAFF, roles.VIEWER])
def test_only_planners_may_split_targets(client, role_users, campaign, role):
    planner_client = client
    planner_client.force_login(role_users[roles.PLANNER])
    preview_url = upload(planner_client, campaign, [["机构号", "存款"], ["R1", "100"]], remainder_to="B1")
    client.force_login(role_users[role])
    assert client.get(reverse("imports:decompose")).status_code == 403
    assert client.get(preview_url).status_code in (403, 404)
    assert client.post(preview_url).status_code in (403, 404)
    assert Target.objects.count() == 0


def test_another_planners_upload_is_not_found(planner, client, campaign, role_users):
    preview_url = upload(planner, campaign, [["机构号", "存款"], ["R1", "100"]], remainder_to="B1")
    other = type(role_users[roles.PLANNER]).objects.create_user("planner2", password="x" * 12)
    roles.grant_role(other, roles.PLANNER)
    client.force_login(other)
    assert client.get(preview_url).status_code == 404


def test_the_preview_speaks_the_users_language(planner, campaign, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    preview_url = upload(planner, campaign, [["机构号", "存款"], ["B1", "100"]], remainder_to="B1")
    body = planner.get(preview_url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "B1 没有参加本活动的下级机构" in body and "O1（B1 下级）不是本活动的参赛对象：不参与分解" in body
