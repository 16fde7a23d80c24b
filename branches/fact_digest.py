"""PostgreSQL: a re-import of the very file that last filled a day, known in one read of the file.

The data team re-sends a day's file (a retry, a second drop of the same export). Comparing it
with the day's facts means resolving and joining 5,000,000 rows; reading the file's bytes once
(SHA-256, about 0.2 s for 200 MB) and finding that digest stored for that day says the same, if
the day's facts and everything that shaped them are as that import left them. So:

* after a clean import by the fast lane (a new day poured in, or every row found unchanged), the
  file's digest is stored with the day, the day's partition (its oid) and the row count, in the
  import's transaction;
* every write that could make the stored facts differ from what the file says removes digests,
  by statement-level triggers (one call per statement, nothing per row): writes to a day's
  partition remove that day's digest; writes through ``branches_fact`` (the merge, the ORM, any
  SQL) remove all of them, as do changes to the rows that turn codes into ids (an updated or
  deleted unit or staff member, any change to indicators);
* a digest counts only while its partition is still the day's partition (a dropped and re-made
  day has another oid) and carries its trigger, and only for the same ``--date``; the campaign
  window is checked again by the caller.

A file whose digest is not stored for its day takes the usual lanes; nothing is ever decided
on a digest but "identical file, nothing changed since: nothing to write".
"""

from __future__ import annotations

import datetime
import hashlib
from pathlib import Path

from branches import fact_partitions as partitions

TABLE = "branches_fact_day_digest"
FUNCTION = "kmh_forget_fact_digests"
TRIGGER = "kmh_forget_fact_digests"
# Changing how a file is read (headers, checks) must not let an old digest vouch for a new reading.
VERSION = b"kmh-daily-file-1\n"
CHUNK_BYTES = 1 << 20


class FileDigest:
    """SHA-256 of the import's date option and the file's bytes, fed as the file is read."""

    def __init__(self, business_date: datetime.date | None):
        self._hash = hashlib.sha256(VERSION + (business_date.isoformat() if business_date else "-").encode() + b"\n")
        self.size = 0

    def update(self, chunk: bytes) -> None:
        self._hash.update(chunk)
        self.size += len(chunk)

    def hexdigest(self) -> str:
        return self._hash.hexdigest()

    @classmethod
    def of_file(cls, path: Path, business_date: datetime.date | None) -> FileDigest:
        digest = cls(business_date)
        with path.open("rb") as handle:
            while chunk := handle.read(CHUNK_BYTES):
                digest.update(chunk)
        return digest


def is_installed(cursor) -> bool:
    cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [TABLE])
    return bool(cursor.fetchone()[0])


def install(cursor) -> None:
    """The digest table, its trigger function and the triggers (migration 0006)."""
    from branches.models import Indicator, Staff, Unit

    cursor.execute(
        f"""
        CREATE TABLE IF NOT EXISTS {TABLE} (
            business_date date PRIMARY KEY, partition oid NOT NULL, file_size bigint NOT NULL,
            digest text NOT NULL, row_count bigint NOT NULL, batch_id bigint,
            stored_at timestamptz NOT NULL DEFAULT now())
        """
    )
    # With an argument (a day partition's trigger): that day's digest; without: every digest.
    cursor.execute(
        f"""
        CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_NARGS > 0 THEN
                DELETE FROM {TABLE} WHERE business_date = CAST(TG_ARGV[0] AS date);
            ELSE
                DELETE FROM {TABLE};
            END IF;
            RETURN NULL;
        END $$
        """
    )
    # Inserting a staff member or unit cannot change what a resolved code means (codes are
    # unique); renaming or deleting one can. Any change to indicators can (codes, names, measure).
    watched = {
        partitions.PARENT: "INSERT OR UPDATE OR DELETE OR TRUNCATE",
        Staff._meta.db_table: "UPDATE OR DELETE OR TRUNCATE",
        Unit._meta.db_table: "UPDATE OR DELETE OR TRUNCATE",
        Indicator._meta.db_table: "INSERT OR UPDATE OR DELETE OR TRUNCATE",
    }
    for table, events in watched.items():
        cursor.execute(f"DROP TRIGGER IF EXISTS {TRIGGER} ON {table}")
        cursor.execute(f"CREATE TRIGGER {TRIGGER} AFTER {events} ON {table} FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}()")
    cursor.execute(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = to_regclass(%s)",
        [partitions.PARENT],
    )
    for (name,) in cursor.fetchall():
        day = partitions.day_of(name)
        if day is not None:
            watch(cursor, name, day)


def uninstall(cursor) -> None:
    cursor.execute(f"DROP FUNCTION IF EXISTS {FUNCTION}() CASCADE")
    cursor.execute(f"DROP TABLE IF EXISTS {TABLE}")


def watch(cursor, table: str, day: datetime.date) -> None:
    """Make writes that name ``table`` (the partition of ``day``) forget that day's digest.

    Statement triggers on the parent do not fire for statements naming a partition, hence one per
    partition. Does nothing before migration 0006 has made the trigger function.
    """
    cursor.execute(
        "SELECT to_regproc(%s) IS NOT NULL, EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = to_regclass(%s) AND tgname = %s)",
        [FUNCTION, table, TRIGGER],
    )
    function_exists, watched = cursor.fetchone()
    if not function_exists or watched:
        return
    cursor.execute(
        f"CREATE TRIGGER {TRIGGER} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table}"
        f" FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}('{day.isoformat()}')"
    )


def may_know(cursor, size: int) -> bool:
    """Whether some day's digest was taken of a file of ``size`` bytes (then the file is read)."""
    if not is_installed(cursor):
        return False
    cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {TABLE} WHERE file_size = %s)", [size])
    return bool(cursor.fetchone()[0])


def known_day(cursor, digest: FileDigest) -> tuple[datetime.date, int] | None:
    """(day, rows) when ``digest`` is stored for a day whose partition is still the one it names
    and still carries its trigger; None otherwise."""
    cursor.execute(
        f"""
        SELECT d.business_date, d.row_count FROM {TABLE} d
        JOIN pg_inherits i ON i.inhrelid = d.partition AND i.inhparent = to_regclass(%s)
        JOIN pg_trigger t ON t.tgrelid = d.partition AND t.tgname = %s
        WHERE d.digest = %s AND d.file_size = %s
        """,
        [partitions.PARENT, TRIGGER, digest.hexdigest(), digest.size],
    )
    row = cursor.fetchone()
    return (row[0], row[1]) if row else None


def remember(cursor, day: datetime.date, digest: FileDigest, rows: int, batch_id: int) -> None:
    """Store ``digest`` for ``day`` after a clean import, once every write of the import is done."""
    if not is_installed(cursor):
        return
    table = partitions.partition_name(day)
    watch(cursor, table, day)
    cursor.execute(f"DELETE FROM {TABLE} WHERE business_date = %s", [day])
    cursor.execute(
        f"INSERT INTO {TABLE} (business_date, partition, file_size, digest, row_count, batch_id)"
        " VALUES (%s, to_regclass(%s), %s, %s, %s, %s)",
        [day, table, digest.size, digest.hexdigest(), rows, batch_id],
    )
