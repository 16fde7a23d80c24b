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


def test_the_run_page_shows_the_budget_overrun_before_approval(client, run, finance, scheme):
    from django.utils.translation import gettext

    client.force_login(finance["maker"])
    within = client.get(reverse("rewards:run", args=[run.pk])).content.decode()
    assert gettext("Budget") not in within  # no budget: nothing to show
    scheme.budget = Decimal("1500.00")
    scheme.save()
    page = client.get(reverse("rewards:run", args=[run.pk]))
    assert page.context["budget"].overrun == Decimal("500.00")
    body = page.content.decode()
    assert gettext("Over budget by ¥%(overrun)s.") % {"overrun": "500.00"} in body
    assert "1,500.00" in body and "2,000.00" in body  # the budget and the awards to date
    assert run.state == RunState.DRAFT  # shown while the run can still be changed
    scheme.budget = Decimal("2000.00")
    scheme.save()
    exact = client.get(reverse("rewards:run", args=[run.pk])).content.decode()
    assert gettext("Over budget by ¥%(overrun)s.").split("¥")[0] not in exact


def test_the_run_page_lists_who_changed_the_run(client, run, finance):
    client.force_login(finance["checker"])
    services.recalculate_payout_run(run, by=finance["checker"])
    page = client.get(reverse("rewards:run", args=[run.pk]))
    assert [(change.by.username, change.action) for change in page.context["changes"]] == [
        ("finance", "made"), ("finance_checker", "recalculated")
    ]
    body = page.content.decode()
    for change in page.context["changes"]:
        assert f"{change.by} ({change.get_action_display()}" in body


def test_a_persons_statement_lists_their_paid_lines_and_total(client, run, finance, small_bank, scheme, role_users):
    from tests.rewards.conftest import settle

    s2 = small_bank["s2"]

    def line(target_run, kind, amount, formula):
        return PayoutLine.objects.create(
            run=target_run, payee_kind=SubjectKind.STAFF, payee_id=s2.pk, payee_name=s2.name, employee_no="E002",
            unit_code="B1", unit_name="城关信用社", rule_name="存款计件", period_start=Q1_START, period_end=JAN_END,
            kind=kind, amount=Decimal(amount), formula=formula,
        )

    paid = line(run, LineKind.AWARD, "450.00", "1000 × 0.45")
    settle(run, finance)
    draft = services.create_payout_run(
        scheme=scheme, period_kind=PeriodKind.MONTH, period_start=Q1_START, period_end=JAN_END,
        by=finance["maker"], calculate=False,
    )
    line(draft, LineKind.TRUE_UP, "300.00", "draft true-up")
    url = reverse("rewards:staff_statement", args=[s2.pk])

    client.force_login(finance["maker"])  # finance sees drafts too
    assert [(item.run_id, item.amount) for item in client.get(url).context["lines"]] == [
        (run.pk, Decimal("450.00")), (draft.pk, Decimal("300.00"))
    ]

    client.force_login(role_users[roles.STAFF])  # E002's own login: only what was paid
    page = client.get(url)
    assert [(item.pk, item.rule_name, item.formula, item.amount) for item in page.context["lines"]] == [
        (paid.pk, "存款计件", "1000 × 0.45", Decimal("450.00"))
    ]
    assert page.context["total"] == Decimal("450.00")
    body = page.content.decode()
    assert "450.00" in body and "draft true-up" not in body and "1,200.00" not in body  # not E001's line


def test_a_branch_manager_sees_the_statements_of_their_branchs_staff_only(client, run, finance, role_users, small_bank):
    from tests.rewards.conftest import settle

    settle(run, finance)
    client.force_login(role_users[roles.BRANCH_MANAGER])  # head of B1
    assert client.get(reverse("rewards:staff_statement", args=[small_bank["s1"].pk])).status_code == 200
    assert client.get(reverse("rewards:staff_statement", args=[small_bank["s2"].pk])).status_code == 200
    assert client.get(reverse("rewards:staff_statement", args=[small_bank["s4"].pk])).status_code == 200  # O1 under B1
    assert client.get(reverse("rewards:staff_statement", args=[small_bank["s3"].pk])).status_code == 403  # B3
    assert client.get(reverse("rewards:staff_statement", args=[small_bank["s3"].pk]) + "?format=xlsx").status_code == 403


def test_a_persons_statement_sheet_has_their_lines_with_amounts_as_numbers(client, run, finance, small_bank):
    import datetime
    import io

    import openpyxl

    from tests.rewards.conftest import settle

    settle(run, finance)
    client.force_login(finance["maker"])
    sheet = client.get(reverse("rewards:staff_statement", args=[small_bank["s1"].pk]) + "?format=xlsx")
    assert sheet["Content-Disposition"] == 'attachment; filename="statement-E001.xlsx"'
    book = openpyxl.load_workbook(io.BytesIO(sheet.content)).active
    rows = list(book.iter_rows(values_only=True))
    header = rows[0]
    assert header[:3] == ("收款人", "员工号", "机构号")
    # As the payout workbook shows them: ¥ with two decimals, under a frozen header row.
    assert book.cell(row=2, column=header.index("金额(元)") + 1).number_format == "¥#,##0.00;-¥#,##0.00"
    assert book.freeze_panes == "A2"
    assert [dict(zip(header, row, strict=True)) for row in rows[1:]] == [
        {
            "收款人": "张伟", "员工号": "E001", "机构号": "B1", "机构名称": "城关信用社", "奖励规则": "存款计件",
            "类别": str(LineKind.AWARD.label), "期间起": datetime.datetime(2027, 1, 1), "期间止": datetime.datetime(2027, 1, 31),
            "金额(元)": 1200,
            "实物/荣誉": None, "计算公式": "1000 × 1", "计算数据": None, "批次号": run.pk,
        }
    ]


@pytest.mark.parametrize("exporter", ["payout_xlsx", "payout_csv"])
def test_export_progress_rises_while_the_file_is_written(
    client, run, finance, small_bank, monkeypatch, django_capture_on_commit_callbacks, exporter
):
    from rewards import exporters

    s2 = small_bank["s2"]
    for n in range(3):  # five lines in all
        PayoutLine.objects.create(
            run=run, payee_kind=SubjectKind.STAFF, payee_id=s2.pk, payee_name=s2.name, employee_no=s2.employee_no,
            unit_code="B1", unit_name="城关信用社", rule_name=f"规则{n}", period_start=Q1_START, period_end=JAN_END,
            amount=Decimal("10.00"),
        )
    client.force_login(finance["maker"])
    with django_capture_on_commit_callbacks():
        client.post(reverse("rewards:export", args=[run.pk, exporter]))
    export = run.exports.get()
    url = reverse("rewards:export_progress", args=[export.pk])
    seen = []
    lines = exporters.line_rows

    def watched(watched_run):
        for row in lines(watched_run):
            seen.append(client.get(url).json())  # what the progress bar reads before each row
            yield row

    monkeypatch.setattr(exporters, "line_rows", watched)
    monkeypatch.setattr(exporters, "PROGRESS_EVERY", 2)
    render_payout_export(export.pk)
    assert [(state["state"], state["rows_done"], state["rows_total"], state["percent"]) for state in seen] == [
        ("running", 0, 5, 0), ("running", 0, 5, 0), ("running", 2, 5, 40), ("running", 2, 5, 40), ("running", 4, 5, 80),
    ]
    assert client.get(url).json() | {"error": ""} == {
        "state": "done", "percent": 100, "rows_done": 5, "rows_total": 5, "error": ""
    }


@pytest.fixture
def correction(run, finance, scheme):
    """The fixture's run locked, and a draft correction run of the same scheme."""
    from tests.rewards.conftest import settle

    settle(run, finance)
    return services.create_payout_run(
        scheme=scheme, period_kind=PeriodKind.CORRECTION, period_start=Q1_START, period_end=JAN_END,
        by=finance["maker"], calculate=False,
    )


def test_finance_adds_a_manual_adjustment_from_the_run_page(client, run, correction, finance):
    from rewards.models import RunChange

    original = run.lines.get(employee_no="E001")
    url = reverse("rewards:adjust", args=[correction.pk])
    client.force_login(finance["checker"])
    assert reverse("rewards:adjust", args=[correction.pk]) in client.get(reverse("rewards:run", args=[correction.pk])).content.decode()
    shown = client.get(url, {"line": f"#{original.pk}"})
    assert shown.context["original"] == original and [line.pk for line in shown.context["history"]] == [original.pk]
    response = client.post(url, {"line": original.pk, "amount": "-1,200.00", "reason": "虚增业绩（退钱交荣誉）"})
    assert response.status_code == 302
    added = correction.lines.get()
    assert (added.kind, added.amount, added.adjusts, added.formula) == (
        LineKind.MANUAL, Decimal("-1200.00"), original, "虚增业绩（退钱交荣誉）"
    )
    assert correction.changes.filter(by=finance["checker"], action=RunChange.Action.LINE_ADDED).exists()


@pytest.mark.parametrize(
    ("form", "message", "values"),
    [
        ({"amount": "lots", "reason": "x"}, "Amount: %(value)r is not an amount of yuan (e.g. -3000.00).", {"value": "lots"}),
        ({"amount": "0", "reason": "x"}, "Amount: an adjustment of 0.00 changes nothing.", {}),
        ({"amount": "-10", "reason": " "}, "Give the reason for the adjustment.", {}),
        (
            {"amount": "-10", "reason": "x", "line": "999999"},
            "Line: %(line)r is not the number of a line of a locked run of this scheme.",
            {"line": "999999"},
        ),
    ],
)
def test_a_wrong_adjustment_is_refused_naming_the_field(client, run, correction, finance, form, message, values):
    from django.utils.translation import gettext

    client.force_login(finance["maker"])
    data = {"line": run.lines.get(employee_no="E001").pk, **form}
    response = client.post(reverse("rewards:adjust", args=[correction.pk]), data, follow=True)
    assert [str(shown) for shown in response.context["messages"]] == [gettext(message) % values if values else gettext(message)]
    assert correction.lines.count() == 0


def test_a_line_of_a_draft_run_cannot_be_adjusted_and_only_finance_opens_the_page(client, run, finance, scheme, role_users):
    draft_line = run.lines.get(employee_no="E001")  # the run is still a draft
    client.force_login(finance["maker"])
    response = client.post(reverse("rewards:adjust", args=[run.pk]), {"line": draft_line.pk, "amount": "-1", "reason": "x"})
    assert run.lines.filter(kind=LineKind.MANUAL).count() == 0 and response.status_code == 200
    for role in (roles.PLANNER, roles.BRANCH_MANAGER, roles.STAFF, roles.VIEWER):
        client.force_login(role_users[role])
        assert client.get(reverse("rewards:adjust", args=[run.pk])).status_code == 403
