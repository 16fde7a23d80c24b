"""PostgreSQL: facts partitioned by business date, one partition per day, filled in bulk.

``branches_fact`` is partitioned by range of ``business_date`` (migration 0005): one partition
per day (``branches_fact_p20270331``) plus a default partition for rows written outside
``branches.facts`` (the ORM, fixtures, the bench generator). Why: a national daily file is
5,000,000 new facts of ONE day. Inserted into one big table they maintain its B-tree row by row
(≈ 1.3 µs a row, more than the insert itself); poured into a fresh table without indexes, with its
key built in one sort afterwards and the table then attached as that day's partition, they cost
about half. A re-import compares with one day's partition only.

Every function takes a cursor inside the caller's transaction: a rollback undoes the partitions it
made. SQLite keeps one plain table; these functions are not called there.
"""

from __future__ import annotations

import datetime

from branches import fact_digest

PARENT = "branches_fact"
DEFAULT = "branches_fact_default"
KEY_COLUMNS = "business_date, indicator_id, subject_kind, subject_id"
# Writers making or filling partitions take this transaction lock, so two of them never create
# the same day's partition (the second waits, then finds it).
PARTITION_LOCK = 0x4B4D4850  # "KMHP"


def partition_name(day: datetime.date) -> str:
    return f"{PARENT}_p{day:%Y%m%d}"


def day_of(name: str) -> datetime.date | None:
    """The day of a partition named by ``partition_name``; None for any other name."""
    prefix = f"{PARENT}_p"
    if not name.startswith(prefix):
        return None
    try:
        return datetime.datetime.strptime(name[len(prefix) :], "%Y%m%d").date()
    except ValueError:
        return None


def is_partitioned(cursor) -> bool:
    cursor.execute("SELECT relkind = 'p' FROM pg_class WHERE oid = to_regclass(%s)", [PARENT])
    row = cursor.fetchone()
    return bool(row and row[0])


def lock(cursor) -> None:
    cursor.execute("SELECT pg_advisory_xact_lock(%s)", [PARTITION_LOCK])


def existing_partitions(cursor, days) -> set[datetime.date]:
    """The days among ``days`` that have their own partition."""
    days = sorted(set(days))
    if not days:
        return set()
    names = {partition_name(day): day for day in days}
    cursor.execute(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
        " WHERE i.inhparent = to_regclass(%s) AND c.relname = ANY(%s)",
        [PARENT, list(names)],
    )
    return {names[name] for (name,) in cursor.fetchall()}


def id_sequence(cursor) -> str:
    cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [PARENT])
    return cursor.fetchone()[0]


def new_day_table(cursor, day: datetime.date) -> str:
    """A fresh, unindexed table shaped like a partition of ``day``, with the day's facts that sit
    in the default partition moved into it. Fill it, then ``attach_day_table``."""
    table = partition_name(day)
    cursor.execute(f"CREATE TABLE {table} (LIKE {PARENT} INCLUDING CONSTRAINTS)")
    # The range check proves the partition bound, so attaching needs no scan of the new table.
    cursor.execute(
        f"ALTER TABLE {table} ADD CONSTRAINT {table}_bound"
        " CHECK (business_date IS NOT NULL AND business_date >= %s AND business_date < %s)",
        [day, day + datetime.timedelta(days=1)],
    )
    cursor.execute(f"INSERT INTO {table} SELECT * FROM {DEFAULT} WHERE business_date = %s", [day])
    if cursor.rowcount:
        cursor.execute(f"DELETE FROM {DEFAULT} WHERE business_date = %s", [day])
    fact_digest.watch(cursor, table, day)
    return table


def attach_day_table(cursor, day: datetime.date) -> None:
    """Build the key of a filled day table in one sort, then attach it as the day's partition.

    Raises IntegrityError when two rows share a key (the caller then finds out which).
    """
    table = partition_name(day)
    # A unique *constraint* (not just an index) is what ATTACH adopts as the partition's share
    # of the parent's key; a bare unique index would be built a second time.
    cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {table}_key UNIQUE ({KEY_COLUMNS})")
    cursor.execute(
        f"ALTER TABLE {PARENT} ATTACH PARTITION {table} FOR VALUES FROM (%s) TO (%s)",
        [day, day + datetime.timedelta(days=1)],
    )
    cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {table}_bound")
    cursor.execute(f"ANALYZE {table}")


def ensure_partitions(cursor, days) -> None:
    """Give every day in ``days`` its own partition (empty, or holding what the default partition
    held for that day), so that merges never fill the default partition."""
    days = set(days)
    if not days:
        return
    lock(cursor)
    for day in sorted(days - existing_partitions(cursor, days)):
        new_day_table(cursor, day)
        attach_day_table(cursor, day)


def split_default(cursor, *, log=None) -> int:
    """Move every day held by the default partition into a partition of its own; returns days moved.

    For data loaded around ``branches.facts`` (the bench generator, fixtures): its days land in
    the default partition, and a large default partition makes every new day's attach scan it.
    The default is detached and poured back through the parent, the key rebuilt once at the end
    (moving day by day would scan the shrinking default once per day).
    """
    lock(cursor)
    cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {DEFAULT})")
    if not cursor.fetchone()[0]:
        return 0
    source = f"{DEFAULT}_old"
    cursor.execute(f"ALTER TABLE {PARENT} DETACH PARTITION {DEFAULT}")
    cursor.execute(f"ALTER TABLE {DEFAULT} RENAME TO {source}")
    days = fill_day_partitions(cursor, source, log=log)
    cursor.execute(f"DROP TABLE {source}")
    cursor.execute(f"CREATE TABLE {DEFAULT} PARTITION OF {PARENT} DEFAULT")
    return days


def fill_day_partitions(cursor, source: str, *, log=None) -> int:
    """Copy every row of ``source`` into the day partitions of the parent (made where missing),
    with the parent's key dropped during the copy and built once after; returns the days seen.

    The parent must have no default partition while this runs (creating a partition would scan it).
    """
    cursor.execute("SELECT conname FROM pg_constraint WHERE conrelid = to_regclass(%s) AND contype = 'u'", [PARENT])
    keys = [name for (name,) in cursor.fetchall()]
    for name in keys:
        cursor.execute(f'ALTER TABLE {PARENT} DROP CONSTRAINT "{name}"')
    cursor.execute(f"SELECT DISTINCT business_date FROM {source}")
    days = sorted(row[0] for row in cursor.fetchall())
    for day in sorted(set(days) - existing_partitions(cursor, days)):
        cursor.execute(
            f"CREATE TABLE {partition_name(day)} PARTITION OF {PARENT} FOR VALUES FROM (%s) TO (%s)",
            [day, day + datetime.timedelta(days=1)],
        )
        fact_digest.watch(cursor, partition_name(day), day)
    cursor.execute(f"INSERT INTO {PARENT} SELECT * FROM {source}")
    if log:
        log(f"    {cursor.rowcount} facts of {len(days)} days in their day partitions")
    cursor.execute("SET LOCAL maintenance_work_mem = '1GB'")
    cursor.execute(f"ALTER TABLE {PARENT} ADD CONSTRAINT fact_one_value_per_key UNIQUE ({KEY_COLUMNS})")
    cursor.execute(f"ANALYZE {PARENT}")
    return len(days)
