"""Helpers for import tests: files in every format, a small indicator catalogue, a campaign."""

from __future__ import annotations

import datetime
import io
from decimal import Decimal

import pytest
from django.utils import translation

from branches.models import Indicator, IndicatorKind, Measure


def csv_bytes(rows: list[list], *, encoding: str = "utf-8") -> bytes:
    text = "\n".join(",".join("" if cell is None else str(cell) for cell in row) for row in rows) + "\n"
    return text.encode(encoding)


def xlsx_bytes(rows: list[list], *, merge_title: str | None = None) -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    if merge_title:
        sheet.append([merge_title])
        sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=max(len(r) for r in rows))
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def xls_bytes(rows: list[list]) -> bytes:
    import xlwt

    book = xlwt.Workbook()
    sheet = book.add_sheet("Sheet1")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if isinstance(value, Decimal):
                value = float(value)
            sheet.write(r, c, value)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def write(tmp_path, name: str, content: bytes):
    path = tmp_path / name
    path.write_bytes(content)
    return path


@pytest.fixture(autouse=True)
def upload_dir(settings, tmp_path):
    settings.IMPORT_UPLOAD_DIR = tmp_path / "uploads"
    settings.VAR_DIR = tmp_path / "var"
    return settings.IMPORT_UPLOAD_DIR


@pytest.fixture
def indicators(db):
    return {
        "deposits": Indicator.objects.create(
            code="DEP_BAL", name="存款余额", name_en="Deposit balance", measure=Measure.AMOUNT, kind=IndicatorKind.BALANCE
        ),
        "pos": Indicator.objects.create(
            code="POS", name="POS布放", name_en="POS placed", measure=Measure.COUNT, kind=IndicatorKind.COUNT
        ),
        "collection": Indicator.objects.create(
            code="COLL_RATE", name="到期贷款收回率", name_en="Collection rate", measure=Measure.RATE, kind=IndicatorKind.RATE
        ),
    }


@pytest.fixture
def quarter_campaign(db):
    from campaigns.models import Campaign

    return Campaign.objects.create(
        code="Q1", name="2027年开门红", start_date=datetime.date(2027, 1, 1), end_date=datetime.date(2027, 3, 31)
    )


@pytest.fixture(autouse=True)
def english(settings):
    """Assertions read the English messages; one test checks the Chinese ones explicitly."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield
