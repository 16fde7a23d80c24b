"""The merge step of ``branches.facts``: staged rows (validated) into facts, with history.

ONE join of the staged rows with the facts of their dates keeps only what must be written — new
figures and changed ones — in a small table; archiving, updating and inserting then read that
table, not the staged file again. A correction file of 5,000,000 rows with one changed figure is
one large join and three small statements (it used to be three large joins and a distinct count).
"""

from __future__ import annotations

import datetime

from django.db import IntegrityError, transaction

from branches import fact_partitions, facts
from branches.models import Fact, FactVersion

# Above this many staged rows the classifying join is forced to hash (see _merge).
HASH_JOIN_ROWS = 50_000


def merge_stage(cursor, stage: facts.Stage, *, batch_id: int) -> tuple[int, int, list[tuple[int, datetime.date]]] | None:
    """Archive and update changed facts, insert new ones; (new, changed, affected pairs), or None
    when a key is staged twice with different values (the errors are then in the error table).

    Repeated keys: among rows matching a fact, a changed row is compared with every staged row of
    its key (a small join); among new rows the unique key finds them while inserting, the
    savepoint rolls back and the full duplicate check decides. A key repeated with the same value
    is written once.
    """
    try:
        with transaction.atomic():
            return _merge(cursor, stage, batch_id)
    except IntegrityError:
        pass
    if facts.check_duplicates_in_stage(cursor, stage):
        return None
    facts.drop_repeated_rows(cursor, stage)
    return _merge(cursor, stage, batch_id)


def _merge(cursor, stage: facts.Stage, batch_id: int):
    fact, version = Fact._meta.db_table, FactVersion._meta.db_table
    dates = facts.stage_dates(cursor, stage)
    if not dates:
        return 0, 0, []
    params = {"batch": batch_id, **{f"d{n}": day for n, day in enumerate(dates)}}
    in_dates = "f.business_date IN (" + ", ".join(f"%(d{n})s" for n in range(len(dates))) + ")"
    changes = stage.changes
    cursor.execute(f"DROP TABLE IF EXISTS {changes}")
    large = stage.pg and _estimated_rows(cursor, stage.table) > HASH_JOIN_ROWS
    if large:
        # The planner prices 5,000,000 index probes (memoized, to no avail) below one hash join:
        # 12.5 s against 6 s for a national correction file.
        cursor.execute("SET LOCAL enable_nestloop = off")
    cursor.execute(
        f"""
        CREATE TEMP TABLE {changes}{" ON COMMIT DROP" if stage.pg else ""} AS
        SELECT s.row_no, s.indicator_id, s.subject_kind, s.subject_id, s.business_date, s.value, f.id AS fact_id
        FROM {stage.table} s LEFT JOIN {fact} f ON {facts.KEY_JOIN} AND {in_dates}
        WHERE f.id IS NULL OR f.value <> s.value
        """,
        params,
    )
    if large:
        cursor.execute("SET LOCAL enable_nestloop = on")
    if stage.pg:
        # Usually a handful of rows: the statements below then look each fact up by its key.
        cursor.execute(f"ANALYZE {changes}")
    new, changed = _counts(cursor, changes)
    if changed:
        cursor.execute(
            f"SELECT 1 FROM {changes} c JOIN {stage.table} s ON s.indicator_id = c.indicator_id"
            " AND s.subject_kind = c.subject_kind AND s.subject_id = c.subject_id"
            " AND s.business_date = c.business_date AND s.value <> c.value WHERE c.fact_id IS NOT NULL LIMIT 1"
        )
        if cursor.fetchone():
            facts.check_duplicates_in_stage(cursor, stage)
            return None
        # The same changed figure twice: written once, from its first row.
        cursor.execute(
            f"DELETE FROM {changes} WHERE fact_id IS NOT NULL AND row_no NOT IN"
            f" (SELECT MIN(row_no) FROM {changes} WHERE fact_id IS NOT NULL GROUP BY fact_id)"
        )
        new, changed = _counts(cursor, changes)
        cursor.execute(
            f"""
            INSERT INTO {version} (fact_id, version_no, value, previous_value, batch_id, source_row, superseded_by_id)
            SELECT f.id, f.version_no, f.value, f.previous_value, f.batch_id, f.source_row, %(batch)s
            FROM {changes} s JOIN {fact} f ON {facts.KEY_JOIN} AND {in_dates}
            WHERE s.fact_id IS NOT NULL
            """,
            params,
        )
        cursor.execute(
            f"""
            UPDATE {fact} AS f SET value = s.value, previous_value = f.value, version_no = f.version_no + 1,
                   batch_id = %(batch)s, source_row = s.row_no
            FROM {changes} s WHERE {facts.KEY_JOIN} AND {in_dates} AND s.fact_id IS NOT NULL
            """,
            params,
        )
    if new:
        if stage.pg and fact_partitions.is_partitioned(cursor):
            # New facts go into their day's partition, never into the default one.
            fact_partitions.ensure_partitions(cursor, [facts.as_date(day) for day in dates])
        cursor.execute(
            f"""
            INSERT INTO {fact} (indicator_id, subject_kind, subject_id, business_date, value, version_no,
                                previous_value, batch_id, source_row)
            SELECT s.indicator_id, s.subject_kind, s.subject_id, s.business_date, s.value, 1, NULL, %(batch)s, s.row_no
            FROM {changes} s WHERE s.fact_id IS NULL
            """,
            params,
        )
    if not (new or changed):
        return 0, 0, []
    cursor.execute(f"SELECT DISTINCT indicator_id, business_date FROM {changes}")
    pairs = sorted((indicator_id, facts.as_date(day)) for indicator_id, day in cursor.fetchall())
    return new, changed, pairs


def _estimated_rows(cursor, table: str) -> float:
    # The staging table was analysed before validation: its row count is in the catalogue.
    cursor.execute("SELECT reltuples FROM pg_class WHERE oid = to_regclass(%s)", [table])
    row = cursor.fetchone()
    return row[0] if row else 0


def _counts(cursor, changes: str) -> tuple[int, int]:
    cursor.execute(
        f"SELECT SUM(CASE WHEN fact_id IS NULL THEN 1 ELSE 0 END), SUM(CASE WHEN fact_id IS NULL THEN 0 ELSE 1 END)"
        f" FROM {changes}"
    )
    new, changed = cursor.fetchone()
    return int(new or 0), int(changed or 0)
