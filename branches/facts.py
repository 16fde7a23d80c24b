"""The one write path for facts (daily figures), with history, set-based from end to end.

Every writer — the bulk daily file, browser imports, the REST API, a manual edit — ends in
``merge_facts`` (or, for files, ``branches.bulk_import`` which feeds the same pipeline):

1. the rows go into a staging table (PostgreSQL ``COPY``; SQLite batched inserts),
2. they are validated with a few set-based statements into an error table,
3. in ONE transaction new facts are inserted, changed ones are archived to FactVersion and
   updated, unchanged ones are left alone; any error means nothing is written.

The Fact row is the current version (value, batch, row, previous value); superseded versions are
appended to FactVersion. So a first import writes each figure once and re-merging the same data
writes nothing at all, and says so.
"""

from __future__ import annotations

import csv
import datetime
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from branches.models import Fact, ImportBatch, Indicator, Measure, SubjectKind

MAX_ERRORS_RETURNED = 1000
IMPORTS_DIR = "imports"

# Column keys used in error reports; loaders may map them to the header the user wrote.
COL_DATE = "business_date"
COL_UNIT = "unit_code"
COL_STAFF = "employee_no"
COL_SUBJECT = "subject"
COL_INDICATOR = "indicator"
COL_VALUE = "value"


def _error_messages() -> dict[str, str]:
    # Built per call so that gettext uses the language active for this request or command.
    return {
        "bad_date": _("Row %(row)s, column %(column)s: “%(value)s” is not a date (use YYYY-MM-DD)."),
        "date_mismatch": _("Row %(row)s, column %(column)s: the date %(value)s is not the date of this file."),
        "no_subject": _("Row %(row)s: neither a unit code nor an employee number is given."),
        "two_subjects": _("Row %(row)s: give either a unit code or an employee number, not both."),
        "unknown_unit": _("Row %(row)s, column %(column)s: there is no unit with code “%(value)s”."),
        "unknown_staff": _("Row %(row)s, column %(column)s: there is no staff member with employee number “%(value)s”."),
        "unknown_subject": _("Row %(row)s, column %(column)s: there is no unit or staff member with id %(value)s."),
        "unknown_indicator": _("Row %(row)s, column %(column)s: there is no indicator “%(value)s”."),
        "empty_value": _("Row %(row)s, column %(column)s: the value is empty."),
        "bad_number": _("Row %(row)s, column %(column)s: “%(value)s” is not a number."),
        "negative_count": _("Row %(row)s, column %(column)s: a count cannot be negative (%(value)s)."),
        "fractional_count": _("Row %(row)s, column %(column)s: a count must be a whole number (%(value)s)."),
        "rate_out_of_range": _(
            "Row %(row)s, column %(column)s: a rate must lie between 0 and 1 (0.97 = 97 %%), got %(value)s."
        ),
        "duplicate_key": _(
            "Row %(row)s, column %(column)s: the same figure (indicator, participant, date) appears in "
            "another row with a different value (%(value)s)."
        ),
        "outside_campaigns": _(
            "Row %(row)s, column %(column)s: the date %(value)s lies outside every campaign (and the year before it)."
        ),
    }


def _column_names() -> dict[str, str]:
    return {
        COL_DATE: _("business date"),
        COL_UNIT: _("unit code"),
        COL_STAFF: _("employee number"),
        COL_SUBJECT: _("participant"),
        COL_INDICATOR: _("indicator"),
        COL_VALUE: _("value"),
    }


@dataclass(frozen=True)
class FactSource:
    """Who or what writes: ``kind`` is an ImportBatch.Kind; ``reference`` a file name or batch id."""

    kind: str
    reference: str = ""
    user: object | None = None
    actor: str = ""


@dataclass(frozen=True)
class RowError:
    row_no: int
    column: str
    value: str
    message: str


@dataclass(frozen=True)
class RowFate:
    """What merging would do to one input row (preview)."""

    row_no: int
    fate: str  # "new", "changed", "unchanged" or "error"
    old_value: Decimal | None = None
    new_value: Decimal | None = None
    message: str = ""


@dataclass
class MergeOutcome:
    batch_id: int
    status: str
    rows: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    error_count: int = 0
    errors: list[RowError] = field(default_factory=list)
    error_file: str = ""
    fates: list[RowFate] | None = None
    changed_pairs: list[tuple[int, datetime.date]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    @property
    def wrote_nothing(self) -> bool:
        return self.new == 0 and self.changed == 0

    def summary(self) -> str:
        if self.error_count:
            return _("%(errors)s errors in %(rows)s rows: nothing was written.") % {
                "errors": self.error_count,
                "rows": self.rows,
            }
        if self.wrote_nothing and self.status == ImportBatch.Status.MERGED:
            return _("%(rows)s rows, all unchanged: nothing to write.") % {"rows": self.rows}
        return _("%(rows)s rows: %(new)s new, %(changed)s changed, %(unchanged)s unchanged.") % {
            "rows": self.rows,
            "new": self.new,
            "changed": self.changed,
            "unchanged": self.unchanged,
        }


class Rejected(Exception):
    """Raised inside the merge transaction to roll it back; carries the outcome."""


class StageError(Exception):
    """A loader cannot stage its input at all (unreadable file, bad header …): nothing is written.

    ``message`` is already in the user's language; ``row_no`` and ``column`` say where, if known.
    """

    def __init__(self, message: str, *, row_no: int = 0, column: str = "", value: str = ""):
        self.message = str(message)
        self.row_no, self.column, self.value = row_no, column, value
        super().__init__(self.message)


# --------------------------------------------------------------------------------------------
# The staging pipeline (shared with branches.bulk_import)
# --------------------------------------------------------------------------------------------


def is_postgresql() -> bool:
    return connection.vendor == "postgresql"


class Stage:
    """Temporary tables of one merge: the typed rows (``stage``) and their errors (``errors``).

    Created inside the merge transaction, so a rollback removes them too.
    """

    def __init__(self) -> None:
        suffix = uuid.uuid4().hex[:10]
        self.table = f"kmh_fact_stage_{suffix}"
        self.errors = f"kmh_fact_errors_{suffix}"
        self.dups = f"kmh_fact_dups_{suffix}"
        self.changes = f"kmh_fact_changes_{suffix}"
        self.dates: list | None = None
        self.pg = is_postgresql()
        # Set by run_merge for loaders that can finish the merge themselves (the bulk fast path).
        self.preview = False
        self.batch_id: int | None = None
        # (new, changed, affected pairs) when the loader already wrote (or proved there is nothing
        # to write); run_merge then skips validation and the merge.
        self.done: tuple[int, int, list[tuple[int, datetime.date]]] | None = None

    def create(self, cursor) -> None:
        numeric = "numeric(20,4)" if self.pg else "NUMERIC"
        on_commit = " ON COMMIT DROP" if self.pg else ""
        cursor.execute(
            f"CREATE TEMP TABLE {self.table} (row_no bigint NOT NULL, indicator_id bigint, subject_kind smallint,"
            f" subject_id bigint, business_date date, value {numeric}, err_code text, err_column text,"
            f" err_value text){on_commit}"
        )
        cursor.execute(
            f"CREATE TEMP TABLE {self.errors} (row_no bigint NOT NULL, code text NOT NULL, err_column text,"
            f" err_value text){on_commit}"
        )

    def drop(self, cursor) -> None:
        cursor.execute(f"DROP TABLE IF EXISTS {self.table}")
        cursor.execute(f"DROP TABLE IF EXISTS {self.errors}")
        cursor.execute(f"DROP TABLE IF EXISTS {self.dups}")
        cursor.execute(f"DROP TABLE IF EXISTS {self.changes}")

    def load_typed(self, cursor, rows: Iterable[tuple]) -> int:
        """Stage (indicator_id, subject_kind, subject_id, business_date, value, row_no) tuples."""
        count = 0
        columns = "row_no, indicator_id, subject_kind, subject_id, business_date, value, err_code, err_column, err_value"
        if self.pg:
            with cursor.cursor.copy(f"COPY {self.table} ({columns}) FROM STDIN") as copy:
                for staged in _typed_rows(rows):
                    copy.write_row(staged)
                    count += 1
        else:
            sql = f"INSERT INTO {self.table} ({columns}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
            for chunk in _chunks(_typed_rows(rows), 5000):
                cursor.executemany(sql, chunk)
                count += len(chunk)
        return count


def _typed_rows(rows: Iterable[tuple]) -> Iterator[tuple]:
    for indicator_id, subject_kind, subject_id, business_date, value, row_no in rows:
        err = None
        number = None
        if value is None or (isinstance(value, str) and not value.strip()):
            err = ("empty_value", COL_VALUE, "")
        else:
            try:
                number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
                if not number.is_finite() or abs(number) >= Decimal("1e16"):
                    raise InvalidOperation
            except (InvalidOperation, ValueError):
                err, number = ("bad_number", COL_VALUE, str(value)), None
        if err is None and not isinstance(business_date, datetime.date):
            err = ("bad_date", COL_DATE, str(business_date))
            business_date = None
        if err:
            yield (row_no, indicator_id, subject_kind, subject_id, business_date, None, *err)
        else:
            yield (row_no, indicator_id, subject_kind, subject_id, business_date, str(number), None, None, None)


def _chunks(items: Iterable, size: int) -> Iterator[list]:
    chunk = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


KEY_JOIN = (
    "f.indicator_id = s.indicator_id AND f.subject_kind = s.subject_kind"
    " AND f.subject_id = s.subject_id AND f.business_date = s.business_date"
)


def validate_stage(cursor, stage: Stage, *, check_subjects: bool, check_duplicates: bool = True) -> int:
    """Fill the error table from the staged rows with a few set-based statements; return its size.

    ``check_subjects``: look the ids up (typed rows from callers); a file's codes were already
    resolved to ids by its loader, so there the check would only cost time.
    ``check_duplicates``: see ``check_duplicates_in_stage``; the merge may defer it (see run_merge).
    """
    indicator = Indicator._meta.db_table
    from branches.models import Staff, Unit

    unit_table, staff_table = Unit._meta.db_table, Staff._meta.db_table
    subject_joins = ""
    subject_checks = ""
    if check_subjects:
        subject_joins = (
            f" LEFT JOIN {unit_table} u ON s.subject_kind = {SubjectKind.UNIT} AND u.id = s.subject_id"
            f" LEFT JOIN {staff_table} st ON s.subject_kind = {SubjectKind.STAFF} AND st.id = s.subject_id"
        )
        subject_checks = "WHEN u.id IS NULL AND st.id IS NULL THEN 'unknown_subject' "
    cast = "CAST(s.value AS text)" if stage.pg else "CAST(s.value AS TEXT)"
    cursor.execute(
        f"""
        INSERT INTO {stage.errors} (row_no, code, err_column, err_value)
        SELECT row_no, code, CASE WHEN err_column IS NOT NULL THEN err_column
                                  WHEN code = 'unknown_indicator' THEN '{COL_INDICATOR}'
                                  WHEN code = 'unknown_subject' THEN '{COL_SUBJECT}'
                                  ELSE '{COL_VALUE}' END,
               CASE WHEN err_column IS NOT NULL THEN err_value
                    WHEN code = 'unknown_indicator' THEN CAST(indicator_id AS text)
                    WHEN code = 'unknown_subject' THEN CAST(subject_id AS text)
                    ELSE value_text END
        FROM (
            SELECT s.row_no, s.err_column, s.err_value, s.indicator_id, s.subject_id, {cast} AS value_text,
                   CASE WHEN s.err_code IS NOT NULL THEN s.err_code
                        WHEN i.id IS NULL THEN 'unknown_indicator'
                        {subject_checks}
                        WHEN i.measure = '{Measure.COUNT}' AND s.value < 0 THEN 'negative_count'
                        WHEN i.measure = '{Measure.COUNT}' AND s.value <> ROUND(s.value) THEN 'fractional_count'
                        WHEN i.measure = '{Measure.RATE}' AND (s.value < 0 OR s.value > 1) THEN 'rate_out_of_range'
                   END AS code
            FROM {stage.table} s LEFT JOIN {indicator} i ON i.id = s.indicator_id{subject_joins}
        ) checked
        WHERE code IS NOT NULL
        """
    )
    if check_duplicates:
        check_duplicates_in_stage(cursor, stage)
    _check_campaign_dates(cursor, stage)
    cursor.execute(f"SELECT COUNT(*) FROM {stage.errors}")
    return cursor.fetchone()[0]


def check_duplicates_in_stage(cursor, stage: Stage) -> int:
    """The same key twice: an error on every row when the values differ; a harmless repeat when
    they agree (dropped before merging). One aggregation finds both; returns the new errors."""
    cast = "CAST(s.value AS text)" if stage.pg else "CAST(s.value AS TEXT)"
    cursor.execute(f"DROP TABLE IF EXISTS {stage.dups}")
    cursor.execute(
        f"""
        CREATE TEMP TABLE {stage.dups} AS
        SELECT indicator_id, subject_kind, subject_id, business_date, MIN(row_no) AS first_row,
               CASE WHEN MIN(value) <> MAX(value) THEN 1 ELSE 0 END AS conflicting
        FROM {stage.table} WHERE err_code IS NULL
        GROUP BY indicator_id, subject_kind, subject_id, business_date HAVING COUNT(*) > 1
        """
    )
    cursor.execute(
        f"""
        INSERT INTO {stage.errors} (row_no, code, err_column, err_value)
        SELECT s.row_no, 'duplicate_key', '{COL_VALUE}', {cast}
        FROM {stage.table} s JOIN {stage.dups} f ON {KEY_JOIN} AND f.conflicting = 1
        """
    )
    return max(cursor.rowcount, 0)


def _check_campaign_dates(cursor, stage: Stage) -> None:
    """Reject dates outside every campaign's period and the year before it (bases, streaks).

    Checked only once campaigns exist, so that the organisation's figures can be loaded first.
    """
    outside = days_outside_campaigns(as_date(day) for day in stage_dates(cursor, stage))
    if outside:
        marks = ", ".join(["%s"] * len(outside))
        cursor.execute(
            f"INSERT INTO {stage.errors} (row_no, code, err_column, err_value)"
            f" SELECT row_no, 'outside_campaigns', '{COL_DATE}', CAST(business_date AS text) FROM {stage.table}"
            f" WHERE err_code IS NULL AND business_date IN ({marks})",
            outside,
        )


def days_outside_campaigns(days: Iterable[datetime.date]) -> list[datetime.date]:
    """The days outside every campaign's period and the year before it; none while no campaign exists."""
    from django.apps import apps

    try:
        campaign_model = apps.get_model("campaigns", "Campaign")
    except LookupError:
        return []
    windows = list(campaign_model.objects.values_list("start_date", "end_date"))
    if not windows:
        return []
    return [day for day in days if not any(start - datetime.timedelta(days=366) <= day <= end for start, end in windows)]


def stage_dates(cursor, stage: Stage) -> list:
    """The distinct business dates staged (one scan, remembered: rows are only ever removed)."""
    if stage.dates is None:
        cursor.execute(f"SELECT DISTINCT business_date FROM {stage.table} WHERE business_date IS NOT NULL")
        stage.dates = [row[0] for row in cursor.fetchall()]
    return stage.dates


def as_date(value) -> datetime.date:
    if isinstance(value, datetime.date):
        return value
    return datetime.date.fromisoformat(str(value))


def drop_repeated_rows(cursor, stage: Stage) -> None:
    """Keep the first of rows that repeat a key with the same value (validation passed)."""
    cursor.execute(f"SELECT COUNT(*) FROM {stage.dups}")
    if cursor.fetchone()[0]:
        cursor.execute(
            f"DELETE FROM {stage.table} WHERE row_no IN (SELECT s.row_no FROM {stage.table} s"
            f" JOIN {stage.dups} f ON {KEY_JOIN} AND s.row_no > f.first_row)"
        )


def len_errors(cursor, stage: Stage) -> int:
    cursor.execute(f"SELECT COUNT(*) FROM {stage.errors}")
    return cursor.fetchone()[0]


def _classify(cursor, stage: Stage, *, skip_errors: bool = False) -> tuple[int, int]:
    """Count staged rows that are new and changed (a preview): one join with the facts of the
    staged dates."""
    fact = Fact._meta.db_table
    dates = stage_dates(cursor, stage)
    params = {f"d{n}": day for n, day in enumerate(dates)}
    in_dates = "f.business_date IN (" + ", ".join(f"%(d{n})s" for n in range(len(dates))) + ")"
    if not dates:
        return 0, 0
    without_errors = (
        f" WHERE NOT EXISTS (SELECT 1 FROM {stage.errors} e WHERE e.row_no = s.row_no)" if skip_errors else ""
    )
    cursor.execute(
        f"""
        SELECT SUM(CASE WHEN f.id IS NULL THEN 1 ELSE 0 END), SUM(CASE WHEN f.value <> s.value THEN 1 ELSE 0 END)
        FROM {stage.table} s LEFT JOIN {fact} f ON {KEY_JOIN} AND {in_dates}{without_errors}
        """,
        params,
    )
    new, changed = (int(n or 0) for n in cursor.fetchone())
    return new, changed


def _preview_fates(cursor, stage: Stage, messages: dict[int, str]) -> list[RowFate]:
    fact = Fact._meta.db_table
    cursor.execute(
        f"""
        SELECT s.row_no, f.id, f.value, s.value FROM {stage.table} s
        LEFT JOIN {fact} f ON {KEY_JOIN}
        ORDER BY s.row_no
        """
    )
    fates = []
    for row_no, fact_id, old, new in cursor.fetchall():
        old = _decimal(old)
        new = _decimal(new)
        if row_no in messages:
            fates.append(RowFate(row_no, "error", old, new, messages[row_no]))
        elif fact_id is None:
            fates.append(RowFate(row_no, "new", None, new))
        elif old != new:
            fates.append(RowFate(row_no, "changed", old, new))
        else:
            fates.append(RowFate(row_no, "unchanged", old, new))
    return fates


def _decimal(value) -> Decimal | None:
    if value is None:
        return None
    return (value if isinstance(value, Decimal) else Decimal(str(value))).quantize(Decimal("0.0001"))


def _collect_errors(cursor, stage: Stage, batch_id: int, column_labels: dict[str, str]) -> tuple[list[RowError], str]:
    """The first errors for the caller and every error in a CSV under var/imports/."""
    templates = _error_messages()
    labels = {**_column_names(), **column_labels}
    directory = Path(settings.VAR_DIR) / IMPORTS_DIR
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"batch-{batch_id}-errors.csv"
    first: list[RowError] = []
    cursor.execute(f"SELECT row_no, code, err_column, err_value FROM {stage.errors} ORDER BY row_no, code")
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([_("row"), _("column"), _("value"), _("error")])
        while True:
            chunk = cursor.fetchmany(10000)
            if not chunk:
                break
            for row_no, code, column, value in chunk:
                label = labels.get(column, column or "")
                value = "" if value is None else str(value)
                message = templates[code] % {"row": row_no, "column": label, "value": value}
                writer.writerow([row_no, label, _neutralise(value), message])
                if len(first) < MAX_ERRORS_RETURNED:
                    first.append(RowError(row_no, label, value, message))
    return first, str(path.relative_to(settings.VAR_DIR))


def _neutralise(text: str) -> str:
    # The error file is opened in Excel: a value starting with = + - @ must not become a formula.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


Loader = Callable[[object, Stage], int]


def run_merge(
    *,
    loader: Loader,
    source: FactSource,
    preview: bool = False,
    with_fates: bool = True,
    check_subjects: bool = True,
    column_labels: dict[str, str] | None = None,
) -> MergeOutcome:
    """Stage with ``loader(cursor, stage) -> row count``, validate, then merge or preview.

    ``with_fates``: in preview, list every row's fate (browser-sized inputs); without, only count.

    The building block of ``merge_facts`` and ``branches.bulk_import``; see ``merge_facts``.
    """
    batch = ImportBatch.objects.create(
        kind=source.kind,
        reference=source.reference[:255],
        user=source.user if getattr(source.user, "pk", None) else None,
        actor=source.actor or getattr(source.user, "username", "") or "",
    )
    outcome = MergeOutcome(batch_id=batch.pk, status=ImportBatch.Status.RUNNING)
    stage = Stage()
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            if stage.pg:
                # Hash joins and the duplicate check over millions of rows stay in memory.
                cursor.execute("SET LOCAL work_mem = '256MB'")
            stage.create(cursor)
            stage.preview, stage.batch_id = preview, batch.pk
            outcome.rows = loader(cursor, stage)
            if stage.done is not None:
                _finish_merged(cursor, stage, outcome, stage.done)
            else:
                _validate_and_merge(
                    cursor, stage, outcome, preview=preview, with_fates=with_fates, check_subjects=check_subjects,
                    column_labels=column_labels or {},
                )
    except Rejected:
        pass
    except StageError as problem:
        outcome.status = ImportBatch.Status.REJECTED
        outcome.error_count = 1
        outcome.errors = [RowError(problem.row_no, problem.column, problem.value, problem.message)]
    except Exception:
        ImportBatch.objects.filter(pk=batch.pk).update(status=ImportBatch.Status.FAILED, finished_at=timezone.now())
        raise
    if outcome.status == ImportBatch.Status.MERGED:
        # Repeats of a key with the same value were dropped: they count as unchanged.
        outcome.unchanged = outcome.rows - outcome.new - outcome.changed
    ImportBatch.objects.filter(pk=batch.pk).update(
        status=outcome.status,
        finished_at=timezone.now(),
        row_count=outcome.rows,
        new_count=outcome.new,
        changed_count=outcome.changed,
        unchanged_count=outcome.unchanged,
        error_count=outcome.error_count,
        error_file=outcome.error_file,
    )
    return outcome


def _validate_and_merge(
    cursor, stage: Stage, outcome: MergeOutcome, *, preview: bool, with_fates: bool, check_subjects: bool,
    column_labels: dict[str, str],
) -> None:
    """Validate the staged rows, then preview or merge them; raises Rejected to roll back."""
    if stage.pg:
        cursor.execute(f"ANALYZE {stage.table}")
    # The duplicate check (one aggregation over every row) is deferred on the merge path:
    # when no staged row matches an existing fact, the unique index finds repeated keys
    # for free while inserting (see branches.fact_merge).
    outcome.error_count = validate_stage(cursor, stage, check_subjects=check_subjects, check_duplicates=preview)
    if outcome.error_count and not preview:
        outcome.error_count += check_duplicates_in_stage(cursor, stage)
    if outcome.error_count:
        outcome.errors, outcome.error_file = _collect_errors(cursor, stage, outcome.batch_id, column_labels)
    if preview and with_fates:
        messages = {}
        for error in outcome.errors:
            messages.setdefault(error.row_no, error.message)
        outcome.fates = _preview_fates(cursor, stage, messages)
        for fate in outcome.fates:
            if fate.fate in ("new", "changed", "unchanged"):
                setattr(outcome, fate.fate, getattr(outcome, fate.fate) + 1)
    if preview:
        if not with_fates:
            outcome.new, outcome.changed = _classify(cursor, stage, skip_errors=True)
            cursor.execute(f"SELECT COUNT(DISTINCT row_no) FROM {stage.errors}")
            outcome.unchanged = outcome.rows - outcome.new - outcome.changed - cursor.fetchone()[0]
        outcome.status = ImportBatch.Status.PREVIEW
        raise Rejected
    if outcome.error_count:
        outcome.status = ImportBatch.Status.REJECTED
        raise Rejected
    from branches.fact_merge import merge_stage

    merged = merge_stage(cursor, stage, batch_id=outcome.batch_id)
    if merged is None:
        outcome.error_count = len_errors(cursor, stage)
        outcome.errors, outcome.error_file = _collect_errors(cursor, stage, outcome.batch_id, column_labels)
        outcome.status = ImportBatch.Status.REJECTED
        raise Rejected
    _finish_merged(cursor, stage, outcome, merged)


def _finish_merged(cursor, stage: Stage, outcome: MergeOutcome, merged) -> None:
    outcome.new, outcome.changed, outcome.changed_pairs = merged
    outcome.unchanged = outcome.rows - outcome.new - outcome.changed
    stage.drop(cursor)
    outcome.status = ImportBatch.Status.MERGED
    if outcome.changed_pairs:
        # Imported lazily: scoring depends on branches, not the other way round. It queues
        # the recompute of every affected (campaign, day) once this transaction commits.
        from scoring.services import queue_recomputes_for_changed_facts

        queue_recomputes_for_changed_facts(outcome.changed_pairs)


def merge_facts(
    *,
    rows: Iterable[tuple],
    source: FactSource,
    preview: bool = False,
) -> MergeOutcome:
    """Write figures with history, all or nothing; the one write path for facts.

    ``rows``: iterable of ``(indicator_id, subject_kind, subject_id, business_date, value, row_no)``
    with ``value`` a Decimal (or a string holding a number) and ``row_no`` the caller's row number
    for error messages. ``source`` says who writes and from where (becomes an ImportBatch).

    Returns a MergeOutcome: counts of new / changed / unchanged figures, ``error_count`` and the
    first 1,000 errors (each naming row, column and reason in the active language; all of them in
    ``error_file`` under var/), and the (indicator_id, business_date) pairs that changed. Any error
    means nothing is written. Re-merging the same rows writes nothing (``wrote_nothing``).
    With ``preview=True`` nothing is written and ``fates`` holds every row's fate (new, changed
    old → new, unchanged, error). After a successful merge that changed something, the recompute of
    the affected (indicator, date) pairs is queued once the transaction commits.
    """
    return run_merge(loader=lambda cursor, stage: stage.load_typed(cursor, rows), source=source, preview=preview)
