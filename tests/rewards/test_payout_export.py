"""The payout workbook and CSV: right figures, Chinese headers, ¥ numbers, no formula injection."""

from __future__ import annotations

import csv
import shutil
import subprocess
from decimal import Decimal

import openpyxl
import pytest

from branches.models import SubjectKind
from rewards import exporters, services
from rewards.models import ExportState, LineKind, PayoutLine, PeriodKind
from rewards.resources import PayoutLineResource
from rewards.tasks import render_payout_export
from tests.rewards.conftest import JAN_END, Q1_START, settle

HOSTILE = ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd"]


@pytest.fixture
def run(scheme, finance, small_bank):
    run = services.create_payout_run(
        scheme=scheme,
        period_kind=PeriodKind.MONTH,
        period_start=Q1_START,
        period_end=JAN_END,
        by=finance["maker"],
    )
    rows = [
        ("E001", "张伟", "B1", "城关信用社", "1234.50"),
        ("E002", "王芳", "B1", "城关信用社", "0.05"),
        ("E003", "李娜", "B3", "西镇信用社", "-500.00"),
    ]
    for employee_no, name, code, unit_name, amount in rows:
        PayoutLine.objects.create(
            run=run,
            payee_kind=SubjectKind.STAFF,
            payee_id=1,
            payee_name=name,
            employee_no=employee_no,
            unit_code=code,
            unit_name=unit_name,
            rule_name="存款计件",
            period_start=Q1_START,
            period_end=JAN_END,
            kind=LineKind.AWARD,
            amount=Decimal(amount),
            formula="1000 × ⌊1234500 ÷ 1000000⌋",
        )
    for index, hostile in enumerate(HOSTILE):
        PayoutLine.objects.create(
            run=run,
            payee_kind=SubjectKind.STAFF,
            payee_id=2,
            payee_name=hostile,
            employee_no=f"X{index}",
            unit_code="B2",
            unit_name=hostile,
            rule_name=hostile,
            period_start=Q1_START,
            period_end=JAN_END,
            kind=LineKind.AWARD,
            amount=Decimal("1.00"),
            formula=hostile,
        )
    return settle(run, finance)


def test_neutralise_prefixes_every_formula_trigger():
    for hostile in HOSTILE:
        assert exporters.neutralise(hostile) == "'" + hostile
    assert exporters.neutralise("张伟") == "张伟"


def test_workbook_has_lines_totals_and_cover_with_numbers_in_yuan(run, tmp_path):
    path = tmp_path / "run.xlsx"
    exporters.get("payout_xlsx").render(run, str(path))
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["明细", "汇总", "封面"]
    lines = book["明细"]
    assert [cell.value for cell in lines[1]][:4] == ["收款人", "员工号", "机构号", "机构名称"]
    assert lines.freeze_panes == "A2"
    first = {cell.value for cell in lines["A"]}
    assert "张伟" in first
    amounts = [row[8] for row in lines.iter_rows(min_row=2)]
    assert {cell.value for cell in amounts} >= {1234.5, 0.05, -500.0}
    assert all(cell.data_type == "n" and "¥" in cell.number_format for cell in amounts)
    assert lines.column_dimensions["D"].width >= 20
    assert lines["G2"].value.date() == Q1_START and lines["H2"].value.date() == JAN_END
    cover = {row[0].value: row[1].value for row in book["封面"].iter_rows()}
    assert "已锁定" in cover["状态"] or "Locked" in cover["状态"]
    assert "finance_checker" in cover["审批人"]
    assert cover["合计(元)"] == pytest.approx(1234.50 + 0.05 - 500 + len(HOSTILE))


def test_workbook_neutralises_formula_injection(run, tmp_path):
    path = tmp_path / "run.xlsx"
    exporters.get("payout_xlsx").render(run, str(path))
    lines = openpyxl.load_workbook(path)["明细"]
    texts = [cell.value for row in lines.iter_rows(min_row=2) for cell in row if isinstance(cell.value, str)]
    assert not any(text.startswith(tuple(exporters.FORMULA_TRIGGERS)) for text in texts)
    assert '\'=HYPERLINK("http://x")' in texts


def test_csv_neutralises_formula_injection_and_keeps_amounts(run, tmp_path):
    path = tmp_path / "run.csv"
    exporters.get("payout_csv").render(run, str(path))
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert rows[0][0] == "收款人"
    amount_col, run_col = rows[0].index("金额(元)"), rows[0].index("批次号")
    cells = [cell for row in rows[1:] for col, cell in enumerate(row) if col not in (amount_col, run_col)]
    assert not any(cell.startswith(tuple(exporters.FORMULA_TRIGGERS)) for cell in cells)
    assert sorted(row[8] for row in rows[1:])[:3] == ["-500.00", "0.05", "1.00"]


def test_import_export_resource_neutralises_beyond_equals(run):
    dataset = PayoutLineResource().export(queryset=run.lines.all())
    cells = [str(cell) for row in dataset for cell in row]
    assert not any(
        cell.startswith(tuple(exporters.FORMULA_TRIGGERS)) for cell in cells if not cell.startswith("-5")
    )
    assert dataset.headers[0] == "收款人"


def test_export_task_writes_file_and_reports_progress(run, finance, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as queued:
        export = services.request_payout_export(run, exporter="payout_xlsx", by=finance["maker"])
    assert len(queued) == 1 and export.state == ExportState.QUEUED
    assert render_payout_export(export.pk) == ExportState.DONE  # what the worker runs
    export.refresh_from_db()
    assert export.state == ExportState.DONE and export.percent == 100
    assert export.rows_total == export.rows_done == 3 + len(HOSTILE)
    assert export.file.name.endswith(".xlsx") and export.file.size > 0
    assert render_payout_export(export.pk) == ExportState.DONE  # a second delivery does nothing


@pytest.mark.skipif(
    shutil.which("soffice") is None,
    reason="LibreOffice (soffice) is not installed: apt-get install libreoffice-calc-nogui",
)
def test_workbook_round_trips_through_libreoffice(run, tmp_path):
    path = tmp_path / "run.xlsx"
    exporters.get("payout_xlsx").render(run, str(path))
    profile = tmp_path / "lo-profile"
    subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--convert-to",
            "csv:Text - txt - csv (StarCalc):44,34,76,1",
            "--outdir",
            str(tmp_path),
            str(path),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    rows = list(csv.reader((tmp_path / "run.csv").read_text(encoding="utf-8").splitlines()))
    assert rows[0][:3] == ["收款人", "员工号", "机构号"]
    by_employee = {row[1]: row for row in rows[1:]}
    assert Decimal(by_employee["E001"][8].replace("¥", "").replace(",", "")) == Decimal("1234.50")
    assert Decimal(by_employee["E002"][8].replace("¥", "").replace(",", "")) == Decimal("0.05")
    assert Decimal(by_employee["E003"][8].replace("¥", "").replace(",", "")) == Decimal("-500.00")
    assert by_employee["X0"][0] == '\'=HYPERLINK("http://x")'
    assert by_employee["E001"][rows[0].index("批次号")] == str(run.pk)
