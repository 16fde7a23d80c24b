"""Finance pages: list, run detail with lines, review/approve/lock buttons, exports, statements; role-checked."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from branches import roles
from branches.models import SubjectKind
from rewards import services
from rewards.models import ExportState, LineKind, PayoutLine, PeriodKind, RunState
from rewards.tasks import render_payout_export
from tests.rewards.conftest import JAN_END, Q1_START


@pytest.fixture
def run(scheme, finance, small_bank):
    run = services.create_payout_run(
        scheme=scheme,
        period_kind=PeriodKind.MONTH,
        period_start=Q1_START,
        period_end=JAN_END,
        by=finance["maker"],
    )
    for staff, amount in ((small_bank["s1"], "1200.00"), (small_bank["s3"], "800.00")):
        PayoutLine.objects.create(
            run=run,
            payee_kind=SubjectKind.STAFF,
            payee_id=staff.pk,
            payee_name=staff.name,
            employee_no=staff.employee_no,
            unit_code=staff.unit.code,
            unit_name=staff.unit.name,
            rule_name="存款计件",
            period_start=Q1_START,
            period_end=JAN_END,
            kind=LineKind.AWARD,
            amount=Decimal(amount),
            formula="1000 × 1",
        )
    return run


def test_finance_sees_run_with_lines_and_totals(client, run, finance):
    client.force_login(finance["maker"])
    page = client.get(reverse("rewards:run", args=[run.pk]))
    assert page.status_code == 200
    body = page.content.decode()
    assert "张伟" in body and "2,000.00" in body


@pytest.mark.parametrize("role", [roles.PLANNER, roles.BRANCH_MANAGER, roles.STAFF, roles.VIEWER])
def test_other_roles_may_not_open_payout_runs(client, run, role_users, role):
    client.force_login(role_users[role])
    assert client.get(reverse("rewards:runs")).status_code == 403
    assert client.get(reverse("rewards:run", args=[run.pk])).status_code == 403


def test_buttons_move_the_run_and_four_eyes_is_shown_as_an_error(client, run, finance):
    client.force_login(finance["maker"])
    client.post(reverse("rewards:action", args=[run.pk, "review"]))
    response = client.post(reverse("rewards:action", args=[run.pk, "approve"]), follow=True)
    run.refresh_from_db()
    assert run.state == RunState.REVIEWED
    shown = [str(message) for message in response.context["messages"]]
    assert len(shown) == 1 and f"#{run.pk}" in shown[0]  # the four-eyes refusal, in the user's language
    client.force_login(finance["checker"])
    client.post(reverse("rewards:action", args=[run.pk, "approve"]))
    client.post(reverse("rewards:action", args=[run.pk, "lock"]))
    run.refresh_from_db()
    assert run.state == RunState.LOCKED


def test_export_button_makes_a_downloadable_workbook(
    client, run, finance, django_capture_on_commit_callbacks
):
    client.force_login(finance["maker"])
    with django_capture_on_commit_callbacks():
        client.post(reverse("rewards:export", args=[run.pk, "payout_xlsx"]))
    export = run.exports.get()
    assert (
        client.get(reverse("rewards:export_progress", args=[export.pk])).json()["state"] == ExportState.QUEUED
    )
    render_payout_export(export.pk)  # what the Celery worker runs
    progress = client.get(reverse("rewards:export_progress", args=[export.pk])).json()
    assert progress["percent"] == 100
    download = client.get(reverse("rewards:export_download", args=[export.pk]))
    assert download.status_code == 200 and download["Content-Disposition"].startswith("attachment")


def test_staff_member_sees_own_statement_of_locked_runs_only(client, run, finance, role_users, small_bank):
    from tests.rewards.conftest import settle

    me = role_users[roles.STAFF]  # E002, who has no line; another person's statement is refused
    client.force_login(me)
    assert client.get(reverse("rewards:staff_statement", args=[small_bank["s2"].pk])).status_code == 200
    assert client.get(reverse("rewards:staff_statement", args=[small_bank["s1"].pk])).status_code == 403
    manager = role_users[roles.BRANCH_MANAGER]  # head of B1 sees B1's statement, not B3's
    client.force_login(manager)
    assert (
        "1,200.00" not in client.get(reverse("rewards:unit_statement", args=["B1"])).content.decode()
    )  # not locked
    settle(run, finance)
    assert "1,200.00" in client.get(reverse("rewards:unit_statement", args=["B1"])).content.decode()
    assert client.get(reverse("rewards:unit_statement", args=["B3"])).status_code == 403
    sheet = client.get(reverse("rewards:unit_statement", args=["B1"]) + "?format=xlsx")
    assert sheet.status_code == 200 and sheet.content[:2] == b"PK"
