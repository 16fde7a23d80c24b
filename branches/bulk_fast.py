"""The bulk path's fast lane (PostgreSQL, partitioned facts): a clean daily file in one statement.

A national daily file is 5,000,000 rows of one day, nearly always clean, and either new (the
day's first load) or a repeat of what is stored. For those two cases the general pipeline —
typed staging table, error table, classifying join, merge — is replaced by ONE statement over the
raw ``COPY`` rows that resolves codes by exact match and applies every check as a filter:

* the day has no partition yet: the rows are inserted into a fresh table without indexes in the
  order of its key, the key is built (without a sort) and the table is attached as the day's
  partition (``branches.fact_partitions``);
* the day has a partition: the rows are counted against the stored facts with equal values.

Before this lane, ``try_known_file`` recognises the file that last filled its day
(``branches.fact_digest``), and ``branches.bulk_parallel`` takes large files with two connections,
using this module's statements on each half.

When every row is valid but some figures differ from the day's (a correction file), the typed
rows are put in the staging table and the general merge takes over from there. Whenever the
statement does not account for every row — any error, a value the cast refuses, padded cells, a
date in another form, a repeated key in a new day — the savepoint is rolled back and
``branches.bulk_import`` runs the general pipeline, which names every problem. So this lane only
ever decides "all new" and "all unchanged", or hands over valid rows; it never reports an error.
"""

from __future__ import annotations

import datetime

from django.db import DataError, IntegrityError, connection, transaction

from branches import fact_digest, facts
from branches import fact_partitions as partitions
from branches.models import Indicator, Measure, Staff, SubjectKind, Unit


class _NotClean(Exception):
    """The fast statement did not account for every row: roll back to the general pipeline."""


def try_known_file(cursor, loader, stage: facts.Stage) -> tuple[int, tuple[int, int, list]] | None:
    """(rows, nothing written) when the file is the one that last filled its day and nothing that
    could change its reading was written since (``branches.fact_digest``); None to read it.

    The file is read (hashed) only when some day's digest is of a file of its size.
    """
    if not stage.pg or stage.preview or stage.batch_id is None or loader.is_xlsx or not partitions.is_partitioned(cursor):
        return None
    if not fact_digest.may_know(cursor, loader.path.stat().st_size):
        return None
    loader.digest = fact_digest.FileDigest.of_file(loader.path, loader.business_date)
    known = fact_digest.known_day(cursor, loader.digest)
    if known is None:
        return None
    day, rows = known
    if facts.days_outside_campaigns([day]):
        return None  # a campaign was removed since: the general pipeline names the rows
    return rows, (0, 0, [])


def try_fast_merge(cursor, raw: str, loader, stage: facts.Stage) -> tuple[int, tuple[int, int, list] | None] | None:
    """Merge the raw rows of ``loader``'s file in one statement, or return None to go the long way.

    Returns (rows, (new, changed, affected (indicator_id, day) pairs)), the latter as
    ``branches.facts``' merge returns it; or (rows, None) when every row is valid but some differ
    from the day's facts: the typed rows are then in ``stage`` for the general merge (no need to
    resolve and check them again).
    """
    if not stage.pg or stage.preview or stage.batch_id is None or loader.fast_failed:
        return None
    if not partitions.is_partitioned(cursor):
        return None
    total = loader.copied
    if total is None or total < 0:
        cursor.execute(f"SELECT COUNT(*) FROM {raw}")
        total = cursor.fetchone()[0]
    if not total:
        return None
    day, day_text = _file_day(cursor, raw, loader)
    if day is None or facts.days_outside_campaigns([day]):
        return None
    # Without statistics the planner takes the raw table for a few thousand rows and joins it by
    # nested loops (twice the time); the sample costs a fraction of a second.
    cursor.execute(f"ANALYZE {raw}")
    resolved, params = resolved_rows(raw, indicator_aliases(), loader, day, day_text)
    params["batch"] = stage.batch_id
    partitions.lock(cursor)
    # Both statements join the whole file with whole tables: hash joins. Row estimates through
    # the filters are still low enough to tempt the planner into 5,000,000 index probes.
    cursor.execute("SET LOCAL enable_nestloop = off")
    try:
        with transaction.atomic():
            if day in partitions.existing_partitions(cursor, [day]):
                result = total, _compare_with_day(cursor, resolved, params, total, stage, loader)
            else:
                result = total, _fill_new_day(cursor, resolved, params, total, day)
            if result[1] is not None and loader.digest is not None:
                # Clean, and the day's facts are now what this file says.
                fact_digest.remember(cursor, day, loader.digest, total, stage.batch_id)
    except (_NotClean, DataError, IntegrityError):
        result = None
    cursor.execute("SET LOCAL enable_nestloop = on")
    return result


def _file_day(cursor, raw: str, loader) -> tuple[datetime.date | None, str | None]:
    """The file's day from its first row (or ``--date``) and the text every row must then hold."""
    if facts.COL_DATE not in loader.columns:
        return loader.business_date, None
    # Row numbers start at 2 (the header is row 1); the scan stops at that row.
    cursor.execute(f"SELECT business_date FROM {raw} WHERE row_no = 2 LIMIT 1")
    text = cursor.fetchone()[0]
    if text is None:
        return None, None
    day, problem = loader.parse_date(text.strip())
    return (None, None) if problem or text != text.strip() else (day, text)


def indicator_aliases() -> dict[str, tuple[int, str]]:
    """Every indicator code, and each name that is not also a code: text → (id, measure)."""
    by_text: dict[str, tuple[int, str]] = {}
    # In the order the general pipeline's lookups (``.first()``) take them when names repeat.
    ordering = Indicator._meta.ordering or ["pk"]
    indicators = list(Indicator.objects.order_by(*ordering).values_list("pk", "code", "name", "measure"))
    for pk, code, _name, measure in indicators:
        by_text[code] = (pk, measure)
    for pk, _code, name, measure in indicators:
        by_text.setdefault(name, (pk, measure))
    return by_text


def _aliases_sql(aliases: dict[str, tuple[int, str]]) -> tuple[str, dict]:
    """A VALUES list of (alias, indicator_id, measure). Inline: ten indicators need no table."""
    params, rows = {}, []
    for n, (text, (pk, measure)) in enumerate(sorted(aliases.items())):
        params[f"alias{n}"], params[f"measure{n}"] = text, measure
        rows.append(f"(CAST(%(alias{n})s AS text), CAST({int(pk)} AS bigint), CAST(%(measure{n})s AS text))")
    if not rows:
        rows.append("(NULL::text, NULL::bigint, NULL::text)")
    return f"(VALUES {', '.join(rows)}) AS a (alias, indicator_id, measure)", params


def resolved_rows(
    raw: str, aliases: dict[str, tuple[int, str]], loader, day: datetime.date, day_text: str | None
) -> tuple[str, dict]:
    """SELECT of (row_no, indicator_id, subject_kind, subject_id, value) for rows passing every check.

    ``aliases``: the indicator texts a row may name (``indicator_aliases()`` or a part of it).

    The same checks as the general pipeline (``DailyFileLoader._resolve`` and
    ``facts.validate_stage``), but strict on form: cells must match exactly (no padding), the
    value must be plain digits with an optional sign and point.
    """
    has_staff, has_unit = facts.COL_STAFF in loader.columns, facts.COL_UNIT in loader.columns
    joins, conditions = [], []
    if has_staff:
        joins.append(f"LEFT JOIN {Staff._meta.db_table} st ON st.employee_no = r.employee_no")
    if has_unit:
        joins.append(f"LEFT JOIN {Unit._meta.db_table} u ON u.code = r.unit_code")
    if has_staff and has_unit:
        # Exactly one of the two cells filled, and it names someone.
        conditions.append("(r.employee_no IS NULL) <> (r.unit_code IS NULL) AND COALESCE(st.id, u.id) IS NOT NULL")
        kind = f"CASE WHEN r.employee_no IS NOT NULL THEN {SubjectKind.STAFF} ELSE {SubjectKind.UNIT} END"
        subject = "COALESCE(st.id, u.id)"
    elif has_staff:
        conditions.append("st.id IS NOT NULL")
        kind, subject = str(SubjectKind.STAFF), "st.id"
    else:
        conditions.append("u.id IS NOT NULL")
        kind, subject = str(SubjectKind.UNIT), "u.id"
    aliases, params = _aliases_sql(aliases)
    params["day"] = day
    if day_text is not None:
        params["day_text"] = day_text
        # An empty date cell takes the --date day, as in the general pipeline.
        conditions.append(
            "(r.business_date = %(day_text)s OR r.business_date IS NULL)"
            if loader.business_date
            else "r.business_date = %(day_text)s"
        )
    # The cast is the check of form and size: it raises on '1.2.3', '1,000', '12abc' or 17 digits
    # (and the general pipeline names the cell). It accepts three forms the general pipeline
    # refuses: exponents ('1e5', excluded here), NaN (excluded below) and spaces (harmless: the
    # general pipeline trims them). Two LIKEs cost a quarter of a pattern match per row.
    # PostgreSQL 16 also reads '0x1F' and '1_000' as numbers: there, the pattern.
    if connection.pg_version >= 160000:
        conditions.append("r.value ~ '^[0-9. +-]+$'")
    else:
        conditions.append("r.value NOT LIKE '%%e%%' AND r.value NOT LIKE '%%E%%'")
    measure_check = (
        "x.value <> 'NaN' AND "
        f"CASE x.measure WHEN '{Measure.COUNT}' THEN x.value >= 0 AND x.value = trunc(x.value)"
        f" WHEN '{Measure.RATE}' THEN x.value BETWEEN 0 AND 1 ELSE true END"
    )
    sql = f"""
        SELECT x.row_no, x.indicator_id, x.subject_kind, x.subject_id, x.value
        FROM (
            SELECT r.row_no, a.indicator_id, a.measure, {kind} AS subject_kind, {subject} AS subject_id,
                   CAST(r.value AS numeric(20,4)) AS value
            FROM {raw} r JOIN {aliases} ON a.alias = r.indicator {" ".join(joins)}
            WHERE {" AND ".join(conditions)}
            OFFSET 0
        ) x
        WHERE {measure_check}
    """
    return sql, params


def reserve_ids(cursor, count: int) -> int:
    """Take ``count`` consecutive fact ids at once; returns the first.

    A ``nextval`` per row costs as much as a tenth of the insert. Moving the sequence by ``count``
    is safe only while nobody else draws from it: every fact insert holds ROW EXCLUSIVE on the
    table, which this SHARE lock excludes until the import commits (writers wait; readers do not).
    """
    cursor.execute(f"LOCK TABLE {partitions.PARENT} IN SHARE MODE")
    sequence = partitions.id_sequence(cursor)
    cursor.execute("SELECT setval(%s, nextval(%s) + %s - 1)", [sequence, sequence, count])
    return cursor.fetchone()[0] - count + 1


def count_equal(cursor, resolved: str, params: dict, indicator_ids: list[int] | None = None) -> int:
    """How many ``resolved`` rows find their fact of the day with the same value (one hash join;
    limited to ``indicator_ids`` for a half of the file)."""
    among = ""
    if indicator_ids is not None:
        among = f" AND f.indicator_id = ANY (ARRAY[{', '.join(str(int(i)) for i in indicator_ids)}]::bigint[])"
    cursor.execute(
        f"""
        SELECT COUNT(*) FILTER (WHERE f.value = s.value) FROM ({resolved}) s
        JOIN {partitions.PARENT} f ON f.business_date = %(day)s AND f.indicator_id = s.indicator_id
             AND f.subject_kind = s.subject_kind AND f.subject_id = s.subject_id{among}
        """,
        params,
    )
    return cursor.fetchone()[0]


def _compare_with_day(cursor, resolved: str, params: dict, total: int, stage: facts.Stage, loader):
    """The day has facts: when every row finds its fact with the same value, nothing to write.

    One join with the day's partition on the key (the value compared after the join: hashing
    numerics costs more); a repeated row with the same value counts twice, which is right:
    repeats with equal values are accepted once. When every row is valid but some differ (a
    correction file), the typed rows go to the stage for the general merge; returns None then.
    """
    if not loader.known_unequal and count_equal(cursor, resolved, params) == total:
        return 0, 0, []
    # An outer join to count the valid rows as well costs the plain re-import a tenth: the
    # staging insert counts them instead, and is rolled back when some row is not valid.
    cursor.execute(
        f"INSERT INTO {stage.table} (row_no, indicator_id, subject_kind, subject_id, business_date, value)"
        f" SELECT s.row_no, s.indicator_id, s.subject_kind, s.subject_id, %(day)s, s.value FROM ({resolved}) s",
        params,
    )
    if cursor.rowcount != total:
        raise _NotClean
    return None


# The key's columns after the date, packed into one bigint: indicator (21 bits), subject kind (2 bits),
# subject (40 bits). Sorting by one integer is a fifth of sorting by three columns.
KEY_ORDER = "ORDER BY s.indicator_id * 2199023255552 + s.subject_kind * 549755813888 + s.subject_id"


def _key_order(cursor) -> str:
    """The ORDER BY that writes the day's rows in the order of its key, or "" when some id is too
    large to pack (the key is then sorted when it is built, as before)."""
    cursor.execute(
        f"SELECT (SELECT MAX(id) FROM {Indicator._meta.db_table}) < 2097152"
        f" AND COALESCE((SELECT MAX(id) FROM {Staff._meta.db_table}), 0) < 549755813888"
        f" AND COALESCE((SELECT MAX(id) FROM {Unit._meta.db_table}), 0) < 549755813888"
    )
    return KEY_ORDER if cursor.fetchone()[0] else ""


def _fill_new_day(cursor, resolved: str, params: dict, total: int, day: datetime.date) -> tuple[int, int, list]:
    """The day has no partition: pour the rows into a fresh table, build its key, attach it."""
    table = partitions.new_day_table(cursor, day)
    fill_day_table(cursor, table, resolved, {**params, "first_id": reserve_ids(cursor, total)}, total)
    partitions.attach_day_table(cursor, day)
    return total, 0, indicators_of_day(cursor, partitions.partition_name(day), day)


def fill_day_table(cursor, table: str, resolved: str, params: dict, expected: int, *, work_mem: str = "1GB") -> None:
    """Insert the ``resolved`` rows into ``table`` in the order of the key; raise _NotClean unless
    there are ``expected`` of them. ``params`` holds ``first_id``, ``day`` and ``batch``.

    Written in key order, the table's key is built without sorting (PostgreSQL's sort checks for
    sorted input first): 1.6–1.9 s instead of 3.2 s with two parallel workers for 5,000,000 rows,
    for a sort of one packed integer (about 1 s) in the insert. The sort holds the rows in memory
    (430 MB for 5,000,000) instead of spilling them.
    """
    order = _key_order(cursor)
    if order:
        cursor.execute(f"SET LOCAL work_mem = '{work_mem}'")
    cursor.execute(
        f"""
        INSERT INTO {table} (id, indicator_id, subject_kind, subject_id, business_date, value, version_no,
                             previous_value, batch_id, source_row)
        SELECT %(first_id)s + s.row_no - 2, s.indicator_id, s.subject_kind, s.subject_id, %(day)s, s.value, 1,
               NULL, %(batch)s, s.row_no
        FROM ({resolved}) s {order}
        """,
        params,
    )
    if cursor.rowcount != expected:
        raise _NotClean
    cursor.execute("SET LOCAL work_mem = '256MB'")
    # One pass over rows in key order for the key (a repeated key fails here); parallel workers
    # would only split a sort that has nothing left to do.
    cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
    if order:
        cursor.execute("SET LOCAL max_parallel_maintenance_workers = 0")


def indicators_of_day(cursor, table: str, day: datetime.date) -> list[tuple[int, datetime.date]]:
    """(indicator, day) for every indicator with facts in ``table``: a walk down its key, ten probes."""
    cursor.execute(
        f"""
        WITH RECURSIVE indicators AS (
            (SELECT indicator_id FROM {table} WHERE business_date = %(day)s ORDER BY indicator_id LIMIT 1)
            UNION ALL
            SELECT (SELECT f.indicator_id FROM {table} f WHERE f.business_date = %(day)s
                    AND f.indicator_id > i.indicator_id ORDER BY f.indicator_id LIMIT 1)
            FROM indicators i WHERE i.indicator_id IS NOT NULL
        )
        SELECT indicator_id FROM indicators WHERE indicator_id IS NOT NULL
        """,
        {"day": day},
    )
    return [(indicator_id, day) for (indicator_id,) in cursor.fetchall()]
