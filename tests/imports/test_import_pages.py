"""The browser import: upload → preview (nothing written) → confirm (all or nothing); planners only."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from branches import roles
from branches.models import Fact
from tests.imports.conftest import csv_bytes

GOOD = [["机构号", "日期", "存款余额"], ["B1", "2027-01-05", "100"], ["B2", "2027-01-05", "200"]]


@pytest.fixture
def planner_client(client, role_users, indicators, quarter_campaign):
    client.force_login(role_users[roles.PLANNER])
    return client


def upload(client, rows, name="d.csv", **extra):
    response = client.post(reverse("imports:upload", args=["figures"]), {"file": SimpleUploadedFile(name, csv_bytes(rows)), **extra})
    return response


def test_upload_redirects_to_a_preview_that_lists_every_row_and_writes_nothing(planner_client):
    response = upload(planner_client, GOOD)
    assert response.status_code == 302
    page = planner_client.get(response["Location"])
    assert page.status_code == 200
    body = page.content.decode()
    assert "B1 · 存款余额 · 2027-01-05" in body and "B2 · 存款余额 · 2027-01-05" in body
    assert Fact.objects.count() == 0


def test_confirm_writes_the_whole_file_and_a_second_import_says_nothing_changed(planner_client):
    preview_url = upload(planner_client, GOOD)["Location"]
    done = planner_client.post(preview_url)
    assert done.status_code == 200 and Fact.objects.count() == 2
    again = planner_client.get(upload(planner_client, GOOD)["Location"])
    assert again.context["preview"].changes_nothing
    assert planner_client.post(again.request["PATH_INFO"]).context["result"].changed_anything is False


def test_preview_with_errors_cannot_be_confirmed(planner_client):
    preview_url = upload(planner_client, [["机构号", "日期", "存款余额"], ["B1", "2027-01-05", "x"], ["ZZ", "2027-01-05", "1"]])["Location"]
    page = planner_client.get(preview_url)
    body = page.content.decode()
    assert "存款余额" in body and "ZZ" in body and "Confirm" not in body
    response = planner_client.post(preview_url)
    assert response.status_code == 409 and Fact.objects.count() == 0


@pytest.mark.parametrize("role", [roles.BRANCH_MANAGER, roles.FINANCE, roles.STAFF, roles.VIEWER])
def test_only_planners_may_import(client, role_users, role):
    client.force_login(role_users[role])
    assert client.get(reverse("imports:upload", args=["figures"])).status_code == 403
    assert upload(client, GOOD).status_code == 403


def test_someone_elses_token_is_not_found(planner_client, client, role_users):
    preview_url = upload(planner_client, GOOD)["Location"]
    other = type(role_users[roles.PLANNER]).objects.create_user("planner2", password="x" * 12)
    roles.grant_role(other, roles.PLANNER)
    client.force_login(other)
    assert client.get(preview_url).status_code == 404
    assert client.get("/imports/preview/../../etc/").status_code == 404


def test_oversized_upload_is_refused_with_a_message_while_streaming(planner_client, settings):
    settings.IMPORT_MAX_BYTES = 2000
    response = upload(planner_client, GOOD * 200)
    assert response.status_code == 413
    assert re.search(r"limit", response.content.decode())


def test_200_mb_upload_is_refused_before_its_body_is_read(planner_client):
    # The body is never read: the declared length alone (201 MB) is refused, at once.
    response = planner_client.generic(
        "POST",
        reverse("imports:upload", args=["figures"]),
        data=b"",
        content_type="multipart/form-data; boundary=xyz",
        CONTENT_LENGTH=str(201 * 1024 * 1024),
    )
    assert response.status_code == 413
    assert "200 MB" in response.content.decode()


def test_target_upload_needs_a_campaign_and_then_previews(planner_client, quarter_campaign):
    from campaigns.models import Metric

    Metric.objects.create(campaign=quarter_campaign, code="dep", name="存款")
    url = reverse("imports:upload", args=["targets"])
    rows = [["机构号", "dep"], ["B1", "5"]]
    missing = planner_client.post(url, {"file": SimpleUploadedFile("t.csv", csv_bytes(rows))})
    assert missing.status_code == 200 and "campaign" in missing.context["form"].errors
    response = planner_client.post(url, {"file": SimpleUploadedFile("t.csv", csv_bytes(rows)), "campaign": quarter_campaign.pk})
    page = planner_client.get(response["Location"])
    assert "B1" in page.content.decode() and not page.context["preview"].ok  # B1 is no participant yet


def test_errors_are_shown_in_the_users_language(planner_client, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    preview_url = upload(planner_client, [["机构号", "日期", "存款余额"], ["ZZ", "2027-01-05", "1"]])["Location"]
    body = planner_client.get(preview_url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "不存在机构号为 ZZ 的机构" in body
    english = planner_client.get(preview_url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "no unit with code ZZ" in english


def test_figure_history_page_shows_versions_and_sources_within_scope(planner_client, client, role_users, indicators):
    for name, value in (("a.csv", "100"), ("b.csv", "120")):
        url = upload(planner_client, [["机构号", "日期", "存款余额"], ["B1", "2027-01-05", value]], name=name)["Location"]
        planner_client.post(url)
    params = {"unit_code": "B1", "indicator": indicators["deposits"].pk}
    page = planner_client.get(reverse("imports:figure-history"), params)
    assert [(e.value, e.source_reference, e.source_row) for e in page.context["entries"]] == [
        (Decimal("120"), "b.csv", 2), (Decimal("100"), "a.csv", 2)
    ]
    client.force_login(role_users[roles.BRANCH_MANAGER])  # manages B1
    assert client.get(reverse("imports:figure-history"), params).status_code == 200
    assert client.get(reverse("imports:figure-history"), {**params, "unit_code": "B2"}).status_code == 404


def test_upload_without_csrf_token_is_refused(role_users, indicators):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(role_users[roles.PLANNER])
    response = strict.post(reverse("imports:upload", args=["figures"]), {"file": SimpleUploadedFile("d.csv", csv_bytes(GOOD))})
    assert response.status_code == 403


def test_import_index_lists_every_import(planner_client):
    body = planner_client.get(reverse("imports:index")).content.decode()
    for kind in ("figures", "units", "staff", "targets", "decompose", "history"):
        assert f"/imports/{kind}/" in body
