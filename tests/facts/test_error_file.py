"""Every error of a rejected batch: the first 1,000 printed by the command, all of them in a file
a planner downloads; batches listed read-only in the admin."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from branches import roles
from branches.bulk_import import import_daily_file
from branches.models import Fact, ImportBatch

HEADER = "business_date,employee_no,indicator,value\n"


def bad_file(tmp_path, rows: int):
    path = tmp_path / "bad.csv"
    path.write_text(HEADER + "".join(f"2027-01-04,E001,DEP,x{n}\n" for n in range(rows)))
    return path


@pytest.fixture
def rejected_batch(small_bank, indicators, tmp_path):
    outcome = import_daily_file(bad_file(tmp_path, 3))
    assert outcome.error_count == 3 and outcome.error_file
    return ImportBatch.objects.get(pk=outcome.batch_id)


def test_the_command_prints_the_first_1000_errors_and_where_the_rest_are(small_bank, indicators, tmp_path):
    stderr = io.StringIO()
    with pytest.raises(CommandError, match="1200 errors"):
        call_command("import_daily_file", str(bad_file(tmp_path, 1200)), stderr=stderr)
    lines = stderr.getvalue().splitlines()
    assert sum(1 for line in lines if "is not a number" in line) == 1000
    assert "… and 200 more errors." in lines
    batch = ImportBatch.objects.get()
    assert any(f"/imports/batches/{batch.pk}/errors/" in line for line in lines)
    assert Fact.objects.count() == 0


def test_a_planner_downloads_every_error_of_a_batch(client, role_users, rejected_batch):
    client.force_login(role_users[roles.PLANNER])
    response = client.get(reverse("imports:batch-errors", args=[rejected_batch.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="batch-{rejected_batch.pk}-errors.csv"'
    rows = b"".join(response.streaming_content).decode("utf-8-sig").splitlines()
    assert len(rows) == 4 and rows[1].startswith("2,value,x0,")


@pytest.mark.parametrize("role", [roles.BRANCH_MANAGER, roles.FINANCE, roles.STAFF, roles.VIEWER])
def test_only_planners_may_download_an_error_file(client, role_users, rejected_batch, role):
    client.force_login(role_users[role])
    assert client.get(reverse("imports:batch-errors", args=[rejected_batch.pk])).status_code == 403


def test_anonymous_callers_are_sent_to_log_in(client, rejected_batch):
    response = client.get(reverse("imports:batch-errors", args=[rejected_batch.pk]))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_no_file_to_download_is_not_found(client, role_users, rejected_batch, settings):
    client.force_login(role_users[roles.PLANNER])
    assert client.get(reverse("imports:batch-errors", args=[rejected_batch.pk + 1000])).status_code == 404
    # A stored path is never followed: the file is found from the batch id alone.
    ImportBatch.objects.filter(pk=rejected_batch.pk).update(error_file="../../etc/passwd")
    (settings.VAR_DIR / "imports" / f"batch-{rejected_batch.pk}-errors.csv").unlink()
    assert client.get(reverse("imports:batch-errors", args=[rejected_batch.pk])).status_code == 404


def test_batches_are_listed_read_only_in_the_admin(admin_client, rejected_batch):
    listing = admin_client.get("/admin/branches/importbatch/")
    assert listing.status_code == 200
    assert reverse("imports:batch-errors", args=[rejected_batch.pk]) in listing.content.decode()
    detail = admin_client.get(f"/admin/branches/importbatch/{rejected_batch.pk}/change/")
    assert detail.status_code == 200 and b'name="reference"' not in detail.content
    assert admin_client.get("/admin/branches/importbatch/add/").status_code == 403
    assert admin_client.post(f"/admin/branches/importbatch/{rejected_batch.pk}/delete/", {"post": "yes"}).status_code == 403
    assert ImportBatch.objects.filter(pk=rejected_batch.pk).exists()
