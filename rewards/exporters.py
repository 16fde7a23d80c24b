"""Exports of a payout run: a registry of small classes, each with an identifier, names and ``render()``.

The payout workbook streams lines from the database (``.iterator(chunk_size=…)``, a server-side
cursor on PostgreSQL) into XlsxWriter's ``constant_memory`` mode, so a run of 500,000 lines is
written in bounded memory. Every text cell goes through ``neutralise()`` (formula injection:
a value beginning with ``=``, ``+``, ``-``, ``@``, tab or CR is prefixed with ``'``); amounts are
numbers with a ¥ format, never text.
"""

from __future__ import annotations

import csv
import datetime
import io
from collections.abc import Callable, Iterator
from typing import IO

import xlsxwriter
from django.utils import timezone
from django.utils.translation import gettext_lazy

from rewards import selectors
from rewards.models import LineKind, PayoutRun

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
CHUNK_ROWS = 5000
PROGRESS_EVERY = 10000
YUAN_FORMAT = "¥#,##0.00;-¥#,##0.00"

Progress = Callable[[int], None]


def neutralise(value) -> str:
    """``value`` as text that a spreadsheet will never run as a formula (OWASP CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


# (header in Chinese, field, column width); headers are the bank's words for payroll.
FIGURES_TEXT = "figures_text"  # the line's figures in words (rewards.line_figures), not a column
LINE_COLUMNS = [
    ("收款人", "payee_name", 14),
    ("员工号", "employee_no", 12),
    ("机构号", "unit_code", 10),
    ("机构名称", "unit_name", 20),
    ("奖励规则", "rule_name", 24),
    ("类别", "kind", 10),
    ("期间起", "period_start", 11),
    ("期间止", "period_end", 11),
    ("金额(元)", "amount", 14),
    ("实物/荣誉", "non_cash_award", 14),
    ("计算公式", "formula", 40),
    ("计算数据", FIGURES_TEXT, 40),
    ("批次号", "run_id", 8),
]
COLUMN_FIELDS = [field for _header, field, _width in LINE_COLUMNS]  # the order of ``line_rows``
LINE_FIELDS = [field for field in COLUMN_FIELDS if field != FIGURES_TEXT]  # the stored fields read


def line_rows(run: PayoutRun) -> Iterator[tuple]:
    """The run's lines as tuples in ``COLUMN_FIELDS`` order, streamed in chunks from the database:
    the kind in words and the figures described (``rewards.line_figures``) in the active language."""
    from rewards.line_figures import FigureText

    kinds = {code: str(label) for code, label in LineKind.choices}  # translate once, not per row
    describe = FigureText()
    fields = [field for field in LINE_FIELDS if field != "run_id"]
    rows = selectors.run_lines(run).values_list(*fields, "rule_id", "figures")
    for *row, rule_id, figures in rows.iterator(chunk_size=CHUNK_ROWS):
        kind = row[5]
        yield (*row[:5], kinds.get(kind, kind), *row[6:], describe(rule_id=rule_id, kind=kind, figures=figures), run.pk)


EXCEL_EPOCH = datetime.date(1899, 12, 30)


class Exporter:
    """One export of a payout run. Subclasses set the names and implement ``render``."""

    identifier = ""
    name_zh = ""
    name_en = gettext_lazy("export")
    extension = ""
    content_type = "application/octet-stream"

    def render(self, run: PayoutRun, out: IO[bytes] | str, *, progress: Progress | None = None) -> None:
        """Write the export of ``run`` to ``out`` (a path or a binary file object)."""
        raise NotImplementedError

    def filename(self, run: PayoutRun) -> str:
        return f"payout-{run.scheme.code}-{run.period_end:%Y%m%d}-run{run.pk}.{self.extension}"


REGISTRY: dict[str, Exporter] = {}


def register(cls: type[Exporter]) -> type[Exporter]:
    REGISTRY[cls.identifier] = cls()
    return cls


def get(identifier: str) -> Exporter:
    """The exporter registered as ``identifier``; KeyError if there is none."""
    return REGISTRY[identifier]


@register
class PayoutWorkbook(Exporter):
    """The payout workbook for payroll: lines, totals per unit and per rule, and a cover sheet."""

    identifier = "payout_xlsx"
    name_zh = "奖励发放明细表 (Excel)"
    name_en = gettext_lazy("Payout workbook (Excel)")
    extension = "xlsx"
    content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

    def render(self, run, out, *, progress=None):
        # constant_memory flushes each row as soon as the next starts: rows go in order, sheet by sheet.
        workbook = xlsxwriter.Workbook(
            out,
            {
                "constant_memory": True,
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "in_memory": False,
            },
        )
        header = workbook.add_format({"bold": True, "bg_color": "#F2DCDB", "border": 1})
        yuan = workbook.add_format({"num_format": YUAN_FORMAT})
        date = workbook.add_format({"num_format": "yyyy-mm-dd"})
        bold_yuan = workbook.add_format({"num_format": YUAN_FORMAT, "bold": True})

        lines = workbook.add_worksheet("明细")
        for col, (title, _field, width) in enumerate(LINE_COLUMNS):
            lines.set_column(col, col, width, yuan if LINE_COLUMNS[col][1] == "amount" else None)
            lines.write_string(0, col, title, header)
        lines.freeze_panes(1, 0)
        amount_col, start_col, end_col, run_col = (
            COLUMN_FIELDS.index(f) for f in ("amount", "period_start", "period_end", "run_id")
        )
        text_cols = [
            col for col in range(len(LINE_COLUMNS)) if col not in (amount_col, start_col, end_col, run_col)
        ]
        write_string, write_number = lines.write_string, lines.write_number
        serials: dict = {}  # a run has few distinct dates: convert each to an Excel serial once
        row_no = 0
        for row_no, row in enumerate(line_rows(run), start=1):
            for col in text_cols:
                value = row[col]
                if not value:  # an empty cell is no cell (most lines have no award in kind or no employee number)
                    continue
                if value[0] in FORMULA_TRIGGERS:
                    value = "'" + value
                write_string(row_no, col, value)
            write_number(row_no, amount_col, float(row[amount_col]), yuan)
            for col in (start_col, end_col):
                day = row[col]
                serial = serials.get(day)
                if serial is None:
                    serial = serials[day] = (day - EXCEL_EPOCH).days
                write_number(row_no, col, serial, date)
            write_number(row_no, run_col, row[run_col])
            if progress and row_no % PROGRESS_EVERY == 0:
                progress(row_no)
        lines.autofilter(0, 0, row_no, len(LINE_COLUMNS) - 1)

        totals = workbook.add_worksheet("汇总")
        totals.freeze_panes(1, 0)
        for col, (title, width) in enumerate(
            [("机构号", 10), ("机构名称", 20), ("笔数", 8), ("金额(元)", 16)]
        ):
            totals.set_column(col, col, width)
            totals.write_string(0, col, title, header)
        row_no = 0
        for row_no, unit in enumerate(selectors.totals_by_unit(run), start=1):
            totals.write_string(row_no, 0, neutralise(unit["unit_code"]))
            totals.write_string(row_no, 1, neutralise(unit["unit_name"]))
            totals.write_number(row_no, 2, unit["lines"])
            totals.write_number(row_no, 3, float(unit["total"]), yuan)
        row_no += 2
        for col, title in enumerate(["奖励规则", "类别", "笔数", "金额(元)"]):
            totals.write_string(row_no, col, title, header)
        kinds = dict(LineKind.choices)
        for by_rule in selectors.totals_by_rule(run):
            row_no += 1
            totals.write_string(row_no, 0, neutralise(by_rule["rule_name"]))
            totals.write_string(row_no, 1, str(kinds.get(by_rule["kind"], by_rule["kind"])))
            totals.write_number(row_no, 2, by_rule["lines"])
            totals.write_number(row_no, 3, float(by_rule["total"]), yuan)
        row_no += 2
        totals.write_string(row_no, 0, "合计", header)
        totals.write_number(row_no, 3, float(selectors.run_total(run)), bold_yuan)

        cover = workbook.add_worksheet("封面")
        cover.set_column(0, 0, 14)
        cover.set_column(1, 1, 36)

        def who(user):
            return user.get_full_name() or user.get_username() if user else ""

        def when(moment):
            return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else ""

        entries = [
            ("奖励方案", f"{run.scheme.code} {run.scheme.name}"),
            ("批次号", str(run.pk)),
            ("期间", f"{run.period_start:%Y-%m-%d} – {run.period_end:%Y-%m-%d}"),
            ("状态", str(run.get_state_display())),
            ("制表人", f"{who(run.created_by)} {when(run.created_at)}"),
            ("复核人", f"{who(run.reviewed_by)} {when(run.reviewed_at)}"),
            ("审批人", f"{who(run.approved_by)} {when(run.approved_at)}"),
            ("锁定人", f"{who(run.locked_by)} {when(run.locked_at)}"),
        ]
        for row_no, (label, value) in enumerate(entries):
            cover.write_string(row_no, 0, label, header)
            cover.write_string(row_no, 1, neutralise(value.strip()))
        cover.write_string(len(entries), 0, "合计(元)", header)
        cover.write_number(len(entries), 1, float(selectors.run_total(run)), bold_yuan)
        workbook.close()


@register
class PayoutCsv(Exporter):
    """The run's lines as CSV in UTF-8 with a BOM, so Chinese Excel opens it as written."""

    identifier = "payout_csv"
    name_zh = "奖励发放明细 (CSV)"
    name_en = gettext_lazy("Payout lines (CSV)")
    extension = "csv"
    content_type = "text/csv"

    def render(self, run, out, *, progress=None):
        close = isinstance(out, str)
        binary = open(out, "wb") if close else out  # noqa: SIM115 - closed below
        text = io.TextIOWrapper(binary, encoding="utf-8-sig", newline="")
        try:
            writer = csv.writer(text)
            writer.writerow([title for title, _field, _width in LINE_COLUMNS])
            amount_col = COLUMN_FIELDS.index("amount")
            for row_no, row in enumerate(line_rows(run), start=1):
                writer.writerow(
                    [
                        f"{value:.2f}"
                        if col == amount_col
                        else value
                        if col == len(row) - 1
                        else neutralise(value)
                        for col, value in enumerate(row)
                    ]
                )
                if progress and row_no % PROGRESS_EVERY == 0:
                    progress(row_no)
            text.flush()
        finally:
            text.detach()
            if close:
                binary.close()


def names() -> list[tuple[str, str, str]]:
    """(identifier, Chinese name, English name) of every registered export, for menus."""
    return [(exporter.identifier, exporter.name_zh, str(exporter.name_en)) for exporter in REGISTRY.values()]


__all__ = ["REGISTRY", "Exporter", "get", "names", "neutralise", "register"]
