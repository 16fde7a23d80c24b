"""The bulk path: a national bank's daily file (millions of rows) into facts, streamed, set-based.

File format (long: one figure per row; see docs/performance.md, "Daily file"):

=================  =========================================  ======================================
column             accepted headers                           content
=================  =========================================  ======================================
business date      business_date, date, 业务日期, 数据日期, 日期   YYYY-MM-DD, YYYY/MM/DD or YYYYMMDD;
                                                              optional when ``--date`` is given
unit code          unit_code, 机构号, 机构代码, 机构编号, 网点号     for a unit's figure
employee number    employee_no, 工号, 员工号, 员工编号, 柜员号     for a staff member's figure
indicator          indicator, indicator_code, 指标, 指标代码,     the indicator's code (or its name)
                   指标编号, 指标名称
value              value, 数值, 指标值, 值, 金额                    a number; thousands separators allowed;
                                                              rates as fractions (0.97 = 97 %)
=================  =========================================  ======================================

Each row names a unit or a staff member (a file may hold both columns; each row fills one).
CSV in UTF-8 (with or without BOM) or GB18030/GBK, decided by the file's first non-ASCII bytes
wherever they are; or ``.xlsx`` (first sheet, streamed).

The first row is the header: a title row above it is refused, naming it (the browser import
skips titles; a machine-written daily file has none). Empty cells right of the last header (a
trailing comma, a stray blank cell in Excel) are ignored; a value under no header is an error.
An xlsx formula is read by its stored value; one without a stored value is named as a formula.

On PostgreSQL the CSV bytes are streamed into ``COPY`` (never held in Python), resolved to ids
and validated with a handful of statements, then merged through ``branches.facts`` in one
transaction. On SQLite (the embedded default) rows are parsed in Python and inserted in batches:
fine for small files.
"""

from __future__ import annotations

import codecs
import csv
import datetime
import io
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

from django.db import DataError, transaction
from django.utils.translation import gettext as _

from branches import bulk_columnar, bulk_fast, bulk_parallel, fact_digest, facts
from branches.facts import FactSource, MergeOutcome, StageError
from branches.models import ImportBatch, Indicator, Staff, SubjectKind, Unit

CHUNK_BYTES = 1 << 20
SNIFF_BYTES = 1 << 16
BATCH_ROWS = 5000
# Rows of an xlsx with an empty required cell that are checked for a formula without a value.
MAX_FORMULA_ROWS_CHECKED = 1000

HEADER_ALIASES = {
    facts.COL_DATE: ["business_date", "date", "业务日期", "数据日期", "日期"],
    facts.COL_UNIT: ["unit_code", "机构号", "机构代码", "机构编号", "网点号"],
    facts.COL_STAFF: ["employee_no", "工号", "员工号", "员工编号", "柜员号"],
    facts.COL_INDICATOR: ["indicator", "indicator_code", "指标", "指标代码", "指标编号", "指标名称"],
    facts.COL_VALUE: ["value", "数值", "指标值", "值", "金额"],
}
_ALIAS_TO_KEY = {alias.casefold(): key for key, aliases in HEADER_ALIASES.items() for alias in aliases}
DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d")
# At most 16 digits before the point, leading zeros aside (what numeric(20,4) holds), and 255
# after it (more than any figure has; the cast itself fails from 16,384 on, and PostgreSQL's
# patterns count to 255 at most).
NUMBER_PATTERN = r"^[+-]?0*([0-9]{1,16}([.][0-9]{0,255})?|[.][0-9]{1,255})$"
XLSX_MAGIC = b"PK\x03\x04"


def import_daily_file(
    path: str | Path,
    *,
    business_date: datetime.date | None = None,
    source: FactSource | None = None,
    preview: bool = False,
    with_fates: bool = False,
) -> MergeOutcome:
    """Import a daily figures file (CSV or xlsx) into facts: all rows or none, with history.

    ``business_date``: the date of the file; fills rows without a date column and rejects rows
    dated otherwise. ``source`` defaults to a file batch named after the file. Returns the
    MergeOutcome of ``branches.facts.merge_facts`` (counts, first 1,000 errors, the error CSV
    under var/imports/). A file that cannot be read at all yields one error and writes nothing.
    ``preview``: validate and count, write nothing; ``with_fates`` also lists every row's fate.
    """
    path = Path(path)
    source = source or FactSource(kind=ImportBatch.Kind.FILE, reference=path.name, actor="system:import_daily_file")
    loader = DailyFileLoader(path, business_date=business_date)
    return facts.run_merge(
        loader=loader, source=source, preview=preview, with_fates=with_fates, check_subjects=False, column_labels=loader.labels
    )


class DailyFileLoader:
    """Stages one daily file: raw text rows first (COPY), then ids resolved set-based."""

    def __init__(self, path: Path, *, business_date: datetime.date | None):
        self.path = path
        self.business_date = business_date
        self.labels: dict[str, str] = {}
        self.columns: list[str] = []
        self.encoding = "utf-8"
        self.header_bytes = 0
        self.is_xlsx = False
        self.copied: int | None = None  # rows COPY wrote into the raw table, when it says
        self.padding = 0  # empty header cells right of the last column: their cells must be blank
        self.digest: fact_digest.FileDigest | None = None  # of the file's bytes, as COPY read them (CSV)
        self.fast_failed = False  # the two-connection fill found a row it could not take
        self.prefilled_raw: str | None = None  # the raw table the two-connection comparison left filled
        self.known_unequal = False  # … having found rows that differ from the day's facts (or not valid)

    # -- reading the file ------------------------------------------------------------------
    def sniff(self) -> None:
        try:
            with self.path.open("rb") as handle:
                head = handle.read(SNIFF_BYTES)
        except OSError as exc:
            raise StageError(_("The file cannot be read: %(reason)s") % {"reason": exc.strerror}) from None
        if not head.strip():
            raise StageError(_("The file is empty."))
        suffix = self.path.suffix.lower()
        self.is_xlsx = head.startswith(XLSX_MAGIC)
        if suffix == ".xlsx" and not self.is_xlsx:
            raise StageError(_("The file is named .xlsx but is not an Excel workbook."))
        if suffix in (".csv", ".txt") and self.is_xlsx:
            raise StageError(_("The file is named %(suffix)s but is an Excel workbook: rename it to .xlsx.") % {"suffix": suffix})
        if self.is_xlsx:
            self.header = self._xlsx_header()
        else:
            self.encoding = _detect_encoding(self.path, head)
            self.header = self._csv_header(head)
        self._map_header(self.header)

    def _csv_header(self, head: bytes) -> list[str]:
        bom = codecs.BOM_UTF8 if head.startswith(codecs.BOM_UTF8) else b""
        end = head.find(b"\n")
        if end < 0:
            end = len(head)
        self.header_bytes = end + 1
        text = head[len(bom) : end].decode(self.encoding, errors="replace").rstrip("\r")
        return next(csv.reader([text]), [])

    def _xlsx_header(self) -> list[str]:
        rows = self._xlsx_rows()
        try:
            first = next(rows)
        except StopIteration:
            raise StageError(_("The workbook's first sheet is empty.")) from None
        finally:
            rows.close()
        return ["" if cell is None else str(cell) for cell in first]

    def _xlsx_rows(self) -> Iterator[tuple]:
        from openpyxl import load_workbook

        try:
            workbook = load_workbook(self.path, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many types for a damaged workbook
            raise StageError(_("The workbook cannot be opened: %(reason)s") % {"reason": exc}) from None
        try:
            yield from workbook.worksheets[0].iter_rows(values_only=True)
        finally:
            workbook.close()

    def _map_header(self, header: list[str]) -> None:
        names = [name.strip().lstrip("\ufeff").strip() for name in header]
        while names and not names[-1]:
            names.pop()  # a trailing comma, or a formatted blank cell right of the table
        self.padding = len(header) - len(names)
        if names and not any(name.casefold() in _ALIAS_TO_KEY for name in names):
            raise StageError(
                _(
                    "Row 1 is not the header (“%(cells)s”): the daily file must start with its header row"
                    " (%(expected)s); delete any title rows above it."
                )
                % {"cells": ", ".join(name for name in names if name)[:200], "expected": ", ".join(HEADER_ALIASES)},
                row_no=1,
            )
        columns = []
        for position, name in enumerate(names, start=1):
            if not name:
                raise StageError(
                    _("Row 1, column %(position)s: the header is empty; name the column or delete it.") % {"position": position},
                    row_no=1,
                )
            key = _ALIAS_TO_KEY.get(name.casefold())
            if key is None:
                raise StageError(
                    _("Row 1, column %(position)s: unknown header “%(name)s”; expected one of %(expected)s.")
                    % {"position": position, "name": name, "expected": ", ".join(HEADER_ALIASES)},
                    row_no=1,
                    column=name,
                )
            if key in columns:
                raise StageError(_("Row 1: the column “%(name)s” appears twice.") % {"name": name}, row_no=1, column=name)
            columns.append(key)
            self.labels[key] = name.strip()
        missing = [key for key in (facts.COL_INDICATOR, facts.COL_VALUE) if key not in columns]
        if facts.COL_UNIT not in columns and facts.COL_STAFF not in columns:
            missing.append(f"{facts.COL_UNIT} / {facts.COL_STAFF}")
        if facts.COL_DATE not in columns and self.business_date is None:
            missing.append(facts.COL_DATE)
        if missing:
            raise StageError(
                _("Row 1: missing column(s) %(columns)s (or give the date with --date).") % {"columns": ", ".join(missing)},
                row_no=1,
            )
        self.columns = columns

    def rows(self) -> Iterator[list]:
        """Data rows as lists of strings in header order (xlsx, or CSV on SQLite)."""
        if self.is_xlsx:
            yield from self._xlsx_data_rows()
            return
        with self.path.open("rb") as raw:
            raw.seek(self.header_bytes)
            text = io.TextIOWrapper(raw, encoding=self.encoding, errors="strict", newline="")
            try:
                yield from csv.reader(text)
            except UnicodeDecodeError:
                raise StageError(_("The file mixes encodings: it is neither UTF-8 nor GB18030 throughout.")) from None

    def _xlsx_data_rows(self) -> Iterator[list]:
        width = len(self.columns)
        # Cells that must hold something but read empty: a formula Excel never calculated reads
        # as None (data_only). Checked against the formulas only when there are any (rare).
        required = [self.columns.index(key) for key in (facts.COL_INDICATOR, facts.COL_VALUE) if key in self.columns]
        if facts.COL_DATE in self.columns and self.business_date is None:
            required.append(self.columns.index(facts.COL_DATE))
        subjects = [self.columns.index(key) for key in (facts.COL_UNIT, facts.COL_STAFF) if key in self.columns]
        empty_cells: dict[int, list[int]] = {}
        rows = self._xlsx_rows()
        next(rows, None)
        for row_no, values in enumerate(rows, start=2):
            cells = values[:width]
            if len(values) > width:
                self._refuse_values_under_no_header(row_no, values[width:])
            if len(empty_cells) < MAX_FORMULA_ROWS_CHECKED:
                empty = [i for i in required if i >= len(cells) or cells[i] is None]
                if subjects and all(i >= len(cells) or cells[i] is None for i in subjects):
                    empty += subjects
                if empty:
                    empty_cells[row_no] = empty
            yield [_cell_text(value) for value in cells]
        if empty_cells:
            self._refuse_formulas_without_values(empty_cells)

    def _refuse_values_under_no_header(self, row_no: int, extra) -> None:
        for offset, value in enumerate(extra):
            if value is not None and str(value).strip():
                raise StageError(
                    _("Row %(row)s, column %(position)s: “%(value)s” stands under no header.")
                    % {"row": row_no, "position": len(self.columns) + offset + 1, "value": str(value)[:100]},
                    row_no=row_no,
                )

    def _refuse_formulas_without_values(self, empty_cells: dict[int, list[int]]) -> None:
        """Name the first cell of ``empty_cells`` (row → column indexes) that holds a formula."""
        from openpyxl import load_workbook
        from openpyxl.utils import get_column_letter

        workbook = load_workbook(self.path, read_only=True, data_only=False)
        try:
            last = max(empty_cells)
            for row_no, values in enumerate(workbook.worksheets[0].iter_rows(values_only=True), start=1):
                if row_no > last:
                    break
                for index in empty_cells.get(row_no, ()):
                    formula = values[index] if index < len(values) else None
                    if isinstance(formula, str) and formula.startswith("="):
                        raise StageError(
                            _(
                                "Cell %(cell)s holds the formula %(formula)s but no stored value. Open the file in "
                                "Excel and save it again, or paste the values only."
                            )
                            % {"cell": f"{get_column_letter(index + 1)}{row_no}", "formula": formula},
                            row_no=row_no,
                            column=self.labels.get(self.columns[index], ""),
                        )
        finally:
            workbook.close()

    # -- staging ---------------------------------------------------------------------------
    def __call__(self, cursor, stage: facts.Stage) -> int:
        self.sniff()
        if stage.pg:
            # The very file that last filled its day, and nothing changed since; or a new day's
            # large clean file, filled by two connections (read by the process's columnar reader,
            # or, for forms it does not take, by the server).
            done = (
                bulk_fast.try_known_file(cursor, self, stage)
                or bulk_columnar.try_columnar_fill(cursor, self, stage)
                or bulk_parallel.try_split_fill(cursor, self, stage)
                or bulk_parallel.try_split_compare(cursor, self, stage)
            )
            if done is not None:
                rows, stage.done = done
                return rows
            raw = self.prefilled_raw
            if raw is None:
                raw = self.new_raw_table(cursor)
                self._copy_into(cursor, raw)
            fast = bulk_fast.try_fast_merge(cursor, raw, self, stage)
            if fast is not None:
                # Merged, or every row valid and staged for the general merge.
                rows, stage.done = fast
                return rows
        else:
            raw = f"kmh_fact_raw_{uuid.uuid4().hex[:10]}"
            cursor.execute(
                f"CREATE TEMP TABLE {raw} (row_no bigint, business_date text, unit_code text, employee_no text,"
                " indicator text, value text)"
            )
            self._insert_into(cursor, raw)
        try:
            return self._resolve(cursor, raw, stage)
        finally:
            cursor.execute(f"DROP TABLE IF EXISTS {raw}")

    @staticmethod
    def new_raw_table(cursor) -> str:
        """A temporary table for the file's text cells, rows numbered as COPY writes them (the
        header is row 1). The identity's cache spares a sequence access per row: a fifth of the
        COPY (numbering rows when read instead puts the whole file through a window function's
        tuple store: worse)."""
        raw = f"kmh_fact_raw_{uuid.uuid4().hex[:10]}"
        cursor.execute(
            f"CREATE TEMP TABLE {raw} (row_no bigint GENERATED BY DEFAULT AS IDENTITY (START WITH 2 CACHE 1000),"
            " business_date text, unit_code text, employee_no text, indicator text, value text) ON COMMIT DROP"
        )
        return raw

    def copy_csv(self, copy_cursor, raw: str, *, columns: str = "", where: str = "", digest: bool = False) -> int:
        """Stream the CSV's bytes (never held whole) into ``COPY raw``; returns the rows kept.

        ``copy_cursor`` is a psycopg cursor, of this or another connection (without ``digest``
        nothing here changes the loader, so a second connection's thread may call it). ``where``
        keeps only some rows (each is numbered all the same). ``digest``: take the file's digest
        into ``self.digest`` as the bytes go by (a fifth of a second of this process's time for
        200 MB, while the server parses).
        """
        encoding = "GB18030" if self.encoding == "gb18030" else "UTF8"
        hasher = fact_digest.FileDigest(self.business_date) if digest else None
        condition = f" WHERE {where}" if where else ""
        with (
            self.path.open("rb") as handle,
            copy_cursor.copy(
                f"COPY {raw} ({columns or ', '.join(self.columns)}) FROM STDIN"
                f" WITH (FORMAT csv, ENCODING '{encoding}'){condition}"
            ) as copy,
        ):
            header = handle.read(self.header_bytes)
            if hasher is not None:
                hasher.update(header)
            while chunk := handle.read(CHUNK_BYTES):
                if hasher is not None:
                    hasher.update(chunk)
                copy.write(chunk)
        if hasher is not None:
            self.digest = hasher
        return copy_cursor.rowcount

    def copy_csv_checked(self, cursor, raw: str, **options) -> int:
        """``copy_csv`` on the import's own connection, a malformed line refused as ``_copy_into`` does."""
        import psycopg

        try:
            return self.copy_csv(cursor.cursor, raw, **options)
        except psycopg.errors.DataError as exc:
            detail = exc.diag.context or exc.diag.message_primary or str(exc)
            raise StageError(_("The file is malformed: %(detail)s") % {"detail": detail}) from None

    def _copy_into(self, cursor, raw: str) -> None:
        import psycopg

        columns = ", ".join(self.columns)
        try:
            if self.is_xlsx:
                with cursor.cursor.copy(f"COPY {raw} (row_no, {columns}) FROM STDIN") as copy:
                    for row_no, values in enumerate(self.rows(), start=2):
                        if any(v.strip() for v in values):  # a sheet's formatted empty rows are no figures
                            copy.write_row([row_no, *_padded(values, len(self.columns))])
                return
            # Cells under empty trailing headers land in columns of their own, checked blank below.
            pads = [f"pad_{n}" for n in range(1, self.padding + 1)]
            for pad in pads:
                cursor.execute(f"ALTER TABLE {raw} ADD COLUMN {pad} text")
            if pads:
                columns = ", ".join([*self.columns, *pads])
            # The digest, unless the fast lane already read the file for it.
            self.copied = self.copy_csv(cursor.cursor, raw, columns=columns, digest=self.digest is None)
            if pads:
                self._refuse_copied_values_under_no_header(cursor, raw, pads)
        except psycopg.errors.DataError as exc:
            # COPY stops at the first malformed line (wrong number of columns, bad encoding …).
            detail = exc.diag.context or exc.diag.message_primary or str(exc)
            raise StageError(_("The file is malformed: %(detail)s") % {"detail": detail}) from None

    def _refuse_copied_values_under_no_header(self, cursor, raw: str, pads: list[str]) -> None:
        blank = " AND ".join(f"TRIM(COALESCE({pad}, '')) = ''" for pad in pads)
        cursor.execute(f"SELECT row_no, {', '.join(pads)} FROM {raw} WHERE NOT ({blank}) ORDER BY row_no LIMIT 1")
        found = cursor.fetchone()
        if found is not None:
            self._refuse_values_under_no_header(found[0], found[1:])

    def _insert_into(self, cursor, raw: str) -> None:
        columns = ", ".join(self.columns)
        marks = ", ".join(["%s"] * (len(self.columns) + 1))
        sql = f"INSERT INTO {raw} (row_no, {columns}) VALUES ({marks})"
        width = len(self.columns)
        batch = []
        for row_no, values in enumerate(self.rows(), start=2):
            if not any(v.strip() for v in values):
                continue  # a blank line, as COPY skips none: documented as ignored on SQLite only
            if len(values) > width:
                if len(values) > width + self.padding:
                    raise StageError(
                        _("Row %(row)s has %(count)s cells, more than the %(width)s headed columns.")
                        % {"row": row_no, "count": len(values), "width": width},
                        row_no=row_no,
                    )
                self._refuse_values_under_no_header(row_no, values[width:])
            batch.append([row_no, *_padded(values, width)])
            if len(batch) >= BATCH_ROWS:
                cursor.executemany(sql, batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)

    def _resolve(self, cursor, raw: str, stage: facts.Stage) -> int:
        """Raw text rows to typed stage rows in one INSERT … SELECT; problems become error codes."""
        suffix = raw.rsplit("_", 1)[-1]
        dates, indicators = f"kmh_fact_dmap_{suffix}", f"kmh_fact_imap_{suffix}"
        on_commit = " ON COMMIT DROP" if stage.pg else ""
        cursor.execute(f"CREATE TEMP TABLE {dates} (raw text, day date, code text){on_commit}")
        cursor.execute(f"CREATE TEMP TABLE {indicators} (raw text, indicator_id bigint){on_commit}")
        # One pass for both: a daily file holds one date and ten indicators, so this is tiny.
        cursor.execute(f"SELECT DISTINCT COALESCE(TRIM(business_date), ''), COALESCE(TRIM(indicator), '') FROM {raw}")
        pairs = cursor.fetchall()
        date_rows = [(text, *self.parse_date(text)) for text in sorted({day for day, _ in pairs})]
        if date_rows:
            cursor.executemany(f"INSERT INTO {dates} (raw, day, code) VALUES (%s, %s, %s)", date_rows)
        indicator_rows = [(text, _indicator_id(text)) for text in sorted({code for _, code in pairs})]
        if indicator_rows:
            cursor.executemany(f"INSERT INTO {indicators} (raw, indicator_id) VALUES (%s, %s)", indicator_rows)

        if stage.pg:
            # Temporary tables are never analysed automatically: without statistics the planner
            # sorts millions of rows for merge joins instead of hashing ten indicators.
            for table in (raw, dates, indicators):
                cursor.execute(f"ANALYZE {table}")
        regex = "~" if stage.pg else "REGEXP"
        number, emp, unit = "r.num", "r.emp", "r.unit"
        has_staff, has_unit = facts.COL_STAFF in self.columns, facts.COL_UNIT in self.columns
        staff_id = "st.id" if has_staff else "NULL"
        unit_id = "u.id" if has_unit else "NULL"
        joins = ""
        if has_staff:
            joins += f" LEFT JOIN {Staff._meta.db_table} st ON st.employee_no = r.emp"
        if has_unit:
            joins += f" LEFT JOIN {Unit._meta.db_table} u ON u.code = r.unit"
        # Each cell is trimmed and the number checked once, in a subquery the planner may not
        # flatten (OFFSET 0): flattened, every CASE below would repeat the check.
        fence = "OFFSET 0" if stage.pg else "LIMIT -1 OFFSET 0"
        cleaned = (
            "SELECT x.*, {num_ok} AS num_ok FROM ("
            "  SELECT row_no, business_date, unit_code, employee_no, indicator, value,"
            "         COALESCE(TRIM(employee_no), '') AS emp, COALESCE(TRIM(unit_code), '') AS unit,"
            "         COALESCE(TRIM(business_date), '') AS day_text, COALESCE(TRIM(indicator), '') AS code,"
            f"        REPLACE(TRIM(COALESCE(value, '')), ',', '') AS num FROM {raw}"
            f") x {fence}"
        )
        q = "'{}'".format
        checks = [
            ("dm.code", "dm.code IS NOT NULL", q(facts.COL_DATE), "q.business_date"),
            ("'no_subject'", f"{emp} = '' AND {unit} = ''", q(facts.COL_SUBJECT), "''"),
            ("'two_subjects'", f"{emp} <> '' AND {unit} <> ''", q(facts.COL_SUBJECT), "q.emp || ' / ' || q.unit"),
            ("'unknown_staff'", f"{emp} <> '' AND {staff_id} IS NULL", q(facts.COL_STAFF), "q.employee_no"),
            ("'unknown_unit'", f"{unit} <> '' AND {unit_id} IS NULL", q(facts.COL_UNIT), "q.unit_code"),
            ("'unknown_indicator'", "im.indicator_id IS NULL", q(facts.COL_INDICATOR), "q.indicator"),
            ("'empty_value'", f"{number} = ''", q(facts.COL_VALUE), "q.raw_value"),
            ("'bad_number'", "NOT r.num_ok", q(facts.COL_VALUE), "q.raw_value"),
        ]

        chain = "CASE " + " ".join(f"WHEN {check[1]} THEN {check[0]}" for check in checks) + " END"
        # Column and offending text follow from the code; worked out only for rows with one (a
        # second and third chain of conditions on every row would cost as much as the first).
        by_code = [("'bad_date'", checks[0]), ("'date_mismatch'", checks[0]), *((c[0], c) for c in checks[1:])]

        def for_errors(pick: int) -> str:
            whens = " ".join(f"WHEN {code} THEN {check[pick]}" for code, check in by_code)
            return f"CASE WHEN q.code IS NOT NULL THEN CASE q.code {whens} END END"

        numeric = "numeric(20,4)" if stage.pg else "NUMERIC"
        insert = (
            f"""
            INSERT INTO {stage.table} (row_no, indicator_id, subject_kind, subject_id, business_date, value,
                                       err_code, err_column, err_value)
            SELECT q.row_no, q.indicator_id, q.subject_kind, q.subject_id, q.day, q.value, q.code,
                   {for_errors(2)}, {for_errors(3)}
            FROM (
                SELECT r.row_no, im.indicator_id,
                       CASE WHEN {emp} <> '' THEN {SubjectKind.STAFF} ELSE {SubjectKind.UNIT} END AS subject_kind,
                       CASE WHEN {emp} <> '' THEN {staff_id} ELSE {unit_id} END AS subject_id,
                       dm.day,
                       CASE WHEN r.num_ok THEN CAST(r.num AS {numeric}) END AS value,
                       {chain} AS code,
                       r.business_date, r.employee_no, r.unit_code, r.indicator, r.value AS raw_value, r.emp, r.unit
                FROM ({cleaned}) r
                LEFT JOIN {dates} dm ON dm.raw = r.day_text
                LEFT JOIN {indicators} im ON im.raw = r.code{joins}
                {fence}
            ) q
            """
        )
        strict = insert.replace("{num_ok}", f"(x.num {regex} '{NUMBER_PATTERN}')")
        if stage.pg:
            # Fast path: only digits, signs and points, then the cast itself is the check (a
            # regular expression per row costs more than the rest of this statement). A value the
            # cast refuses ('1.2.3', too many digits) rolls back to the strict path, which names it.
            quick = insert.replace("{num_ok}", "(x.num <> '' AND translate(x.num, '0123456789.+-', '') = '')")
            try:
                with transaction.atomic():
                    cursor.execute(quick)
            except DataError:
                cursor.execute(strict)
        else:
            cursor.execute(strict)
        count = cursor.rowcount
        cursor.execute(f"DROP TABLE IF EXISTS {dates}")
        cursor.execute(f"DROP TABLE IF EXISTS {indicators}")
        return count

    def parse_date(self, text: str) -> tuple[datetime.date | None, str | None]:
        if text == "":
            return (self.business_date, None) if self.business_date else (None, "bad_date")
        for fmt in DATE_FORMATS:
            try:
                day = datetime.datetime.strptime(text[:10] if "-" in text or "/" in text else text, fmt).date()
            except ValueError:
                continue
            if self.business_date and day != self.business_date:
                return None, "date_mismatch"
            return day, None
        return None, "bad_date"


def _indicator_id(text: str) -> int | None:
    if not text:
        return None
    match = Indicator.objects.filter(code=text).values_list("pk", flat=True).first()
    if match is None:
        match = Indicator.objects.filter(name=text).values_list("pk", flat=True).first()
    if match is None:
        match = Indicator.objects.filter(name_en__iexact=text).exclude(name_en="").values_list("pk", flat=True).first()
    return match


def _detect_encoding(path: Path, head: bytes) -> str:
    """UTF-8 (with or without BOM) when the file's first non-ASCII bytes decode as such, else
    GB18030 (GBK's superset). A file whose first 64 KiB are ASCII is read on until its first
    non-ASCII chunk (bytes.isascii: about 20 ms for 200 MB); all ASCII reads as UTF-8."""
    sample = head
    if head.isascii():
        with path.open("rb") as handle:
            handle.seek(len(head))
            # Every byte before this chunk is ASCII, so the chunk starts on a character.
            while (sample := handle.read(CHUNK_BYTES)) and sample.isascii():
                pass
        if not sample:
            return "utf-8"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
    except UnicodeDecodeError:
        return "gb18030"
    return "utf-8"


def _padded(values: list, width: int) -> list:
    values = list(values[:width])
    return values + [""] * (width - len(values))


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.date().isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        # str() writes 0.00005 as '5e-05', which no number check accepts; the shortest decimal
        # that reads back as the same float, written out in full, is what the cell shows.
        return format(Decimal(repr(value)), "f")
    return str(value)
