"""PostgreSQL: a new day's large clean file poured by two connections, one per half of the indicators.

One connection resolves and inserts on one core; the machine has two. Writing one table from two
connections costs more than it saves (both extend and fill the same heap), so the day's partition
is itself partitioned by indicator, and each connection fills and keys its own part:

* the import's own connection (A) and a second connection (B) each ``COPY`` the whole file into a
  temporary table of their own, keeping the rows of their indicators (``COPY … WHERE``: the file is
  parsed twice, at the same time, but each keeps and resolves half); B keeps every row A does
  not, so a row naming no indicator is B's and makes B's half unclean;
* each resolves its rows with the fast lane's statement (``branches.bulk_fast``), writes them in
  the order of the key into its own table and builds that table's key, at the same time;
* B commits its table (not attached: no reader sees it); A then makes the day's table
  (``branches_fact_p20270331``, partitioned by indicator: ``…_a``, ``…_b`` and an empty default
  ``…_other`` for indicators made later) and attaches it, in the import's transaction, so
  readers see the whole day or nothing.

Whenever either half is not clean — an error, a repeated key, a refused cast — A rolls back, B's
table is dropped, and the file takes the usual lanes (which name every problem). A table that a
killed import left behind is dropped by the next import of that day. Row numbers are the file's
in both halves (``COPY`` numbers every row it reads, kept or not), and so are fact ids (one block
reserved for the whole file).

A large file for a day that has facts is compared the same way (``try_split_compare``): each
connection counts its half's rows equal to the day's facts, read only. When some row differs, A
reads the rest of the file into its table and the usual lanes stage it without comparing again.
"""

from __future__ import annotations

import contextlib
import csv
import datetime
import logging
import queue
import threading
import time

import psycopg
from django.db import DataError, IntegrityError, connection, transaction

from branches import bulk_fast, fact_digest, facts
from branches import fact_partitions as partitions

# Below this size one connection is as fast: the province file (500,000 rows, 19 MB) took
# 2.8–2.9 s with two against 2.8–3.2 s with one (the second connection, its parse of the whole
# file, its statistics and the day's tables cost as much as the half it saves).
MIN_BYTES = 64 << 20
WAIT_SECONDS = 3600


_log = logging.getLogger(__name__)
_started = [0.0]


def _trace(side: str, step: str) -> None:
    # Where the time goes, per connection (DEBUG): docs/performance.md quotes these.
    _log.debug("half %s: %s at %.2f s", side, step, time.perf_counter() - _started[0])


class _Abandon(Exception):
    """One half is not clean, or the split does not apply: the usual lanes take the file."""


def try_split_fill(cursor, loader, stage: facts.Stage) -> tuple[int, tuple[int, int, list]] | None:
    """Fill a new day from a large clean CSV with two connections; (rows, (new, 0, pairs)) or None.

    None leaves nothing behind: the caller reads the file the usual way.
    """
    new_day = new_day_to_split(cursor, loader, stage)
    if new_day is None:
        return None
    day, day_text, groups = new_day
    _started[0] = time.perf_counter()
    try:
        other = _Other(loader, day, day_text, groups, stage.batch_id)
    except psycopg.OperationalError:
        return None  # no second connection to be had: one will do
    other.start()
    try:
        try:
            with transaction.atomic():
                result = _fill(cursor, loader, stage, day, day_text, groups, other)
        except (bulk_fast._NotClean, DataError, IntegrityError, psycopg.errors.DataError, psycopg.errors.IntegrityError):
            # A half is not clean: the one-connection fast lane would find the same.
            result, loader.fast_failed = None, True
        except (_Abandon, psycopg.Error):
            result = None
        if result is None:
            other.abandon()
        return result
    finally:
        other.close()


def try_split_compare(cursor, loader, stage: facts.Stage) -> tuple[int, tuple[int, int, list]] | None:
    """A large file for a day that has facts, compared by two connections, one half of the
    indicators each: (rows, nothing written) when every row finds its fact with the same value.

    Otherwise None, with the whole file in ``loader.prefilled_raw`` for the usual lanes (and
    ``loader.known_unequal`` so that they do not compare again).
    """
    if not applies(cursor, loader, stage):
        return None
    day, day_text = first_row_day(loader)
    if day is None or facts.days_outside_campaigns([day]) or day not in partitions.existing_partitions(cursor, [day]):
        return None
    groups = indicator_groups()
    if groups is None:
        return None
    _started[0] = time.perf_counter()
    try:
        other = _Other(loader, day, day_text, groups, stage.batch_id, compare=True)
    except psycopg.OperationalError:
        return None
    other.start()
    try:
        a_aliases = groups["a"]["aliases"]
        raw = loader.new_raw_table(cursor)
        _trace("A", "copy")
        mine = loader.copy_csv_checked(cursor, raw, where=_copy_where(a_aliases, keep=True), digest=loader.digest is None)
        _trace("A", "compare")
        equal = None
        try:
            with transaction.atomic():
                cursor.execute(f"ANALYZE {raw}")
                cursor.execute("SET LOCAL enable_nestloop = off")
                resolved, params = bulk_fast.resolved_rows(raw, a_aliases, loader, day, day_text)
                equal = bulk_fast.count_equal(cursor, resolved, params, groups["a"]["ids"])
        except DataError:
            pass  # a value the cast refuses: the usual lanes name it
        try:
            theirs, their_equal = other.compared()
        except _Abandon:
            theirs = their_equal = None
        _trace("A", "compared")
        total = mine + (theirs or 0)
        if equal is not None and theirs is not None and equal + their_equal == total and total:
            if loader.digest is not None:
                fact_digest.remember(cursor, day, loader.digest, total, stage.batch_id)
            return total, (0, 0, [])
        # Some row differs or is not valid: the whole file into the one raw table, rows numbered
        # from 2 again (every row read takes a number, kept or not).
        cursor.execute(f"ALTER TABLE {raw} ALTER COLUMN row_no RESTART WITH 2")
        rest = loader.copy_csv_checked(cursor, raw, where=_copy_where(a_aliases, keep=False))
        loader.copied, loader.prefilled_raw = mine + rest, raw
        loader.known_unequal = equal is not None and theirs is not None
        return None
    finally:
        other.close()


def new_day_to_split(cursor, loader, stage, *, min_bytes: int | None = None):
    """(day, the date's text in the file, indicator groups) when ``loader``'s file may fill a new
    day in two halves (``applies``, a day of the campaigns that has no partition and nothing in
    the default one, two indicators at least); None otherwise. Takes the partitions' lock."""
    if not applies(cursor, loader, stage, min_bytes=min_bytes):
        return None
    day, day_text = first_row_day(loader)
    if day is None or facts.days_outside_campaigns([day]):
        return None
    partitions.lock(cursor)
    if day in partitions.existing_partitions(cursor, [day]) or default_holds(cursor, day):
        return None
    groups = indicator_groups()
    return None if groups is None else (day, day_text, groups)


def applies(cursor, loader, stage, *, min_bytes: int | None = None) -> bool:
    """Whether a file may be poured by two connections (``min_bytes``: this module's ``MIN_BYTES``
    unless given)."""
    if not stage.pg or stage.preview or stage.batch_id is None or loader.is_xlsx or loader.padding:
        return False
    if loader.fast_failed:
        return False  # a lane before found a value the cast refuses or a key twice
    if connection.savepoint_ids:
        # The import runs inside a caller's transaction: B would not see what it wrote before.
        return False
    if loader.path.stat().st_size < (MIN_BYTES if min_bytes is None else min_bytes):
        return False
    return partitions.is_partitioned(cursor)


def first_row_day(loader) -> tuple[datetime.date | None, str | None]:
    """The file's day as the fast lane takes it (``bulk_fast._file_day``), read from the file."""
    if facts.COL_DATE not in loader.columns:
        return loader.business_date, None
    with loader.path.open("rb") as handle:
        handle.seek(loader.header_bytes)
        line = handle.readline(1 << 16)
    try:
        cells = next(csv.reader([line.decode(loader.encoding)]), [])
    except UnicodeDecodeError:
        return None, None
    index = loader.columns.index(facts.COL_DATE)
    text = cells[index] if index < len(cells) else ""
    if not text or text != text.strip():
        return None, None
    day, problem = loader.parse_date(text)
    return (None, None) if problem else (day, text)


def default_holds(cursor, day: datetime.date) -> bool:
    # Facts of the day written around branches.facts would have to move into the new table.
    cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {partitions.DEFAULT} WHERE business_date = %s)", [day])
    return bool(cursor.fetchone()[0])


def indicator_groups() -> dict[str, dict] | None:
    """Indicators alternately in two halves: ids and (alias → (id, measure)) of each."""
    aliases = bulk_fast.indicator_aliases()
    ids = sorted({pk for pk, _measure in aliases.values()})
    if len(ids) < 2:
        return None
    halves = {"a": set(ids[0::2]), "b": set(ids[1::2])}
    return {
        name: {"ids": sorted(half), "aliases": {text: v for text, v in aliases.items() if v[0] in half}}
        for name, half in halves.items()
    }


def _copy_where(aliases: dict, *, keep: bool) -> str:
    texts = ", ".join("'" + text.replace("'", "''") + "'" for text in sorted(aliases))
    return f"indicator IN ({texts})" if keep else f"indicator IS NULL OR indicator NOT IN ({texts})"


def _fill(cursor, loader, stage, day, day_text, groups, other) -> tuple[int, tuple[int, int, list]]:
    table = partitions.partition_name(day)
    raw = loader.new_raw_table(cursor)
    _trace("A", "copy")
    mine = loader.copy_csv_checked(cursor, raw, where=_copy_where(groups["a"]["aliases"], keep=True), digest=True)
    _trace("A", "copied")
    theirs = other.copied()
    _trace("A", "B copied")
    total = mine + theirs
    if not total:
        raise _Abandon
    first_id = bulk_fast.reserve_ids(cursor, total)
    other.go(first_id)
    cursor.execute(f"ANALYZE {raw}")
    cursor.execute("SET LOCAL enable_nestloop = off")
    resolved, params = bulk_fast.resolved_rows(raw, groups["a"]["aliases"], loader, day, day_text)
    leaf = f"{table}_a"
    new_leaf(cursor, leaf, day, groups["a"]["ids"])
    _trace("A", "insert")
    bulk_fast.fill_day_table(
        cursor, leaf, resolved, {**params, "first_id": first_id, "batch": stage.batch_id}, mine, work_mem="512MB"
    )
    _trace("A", "key")
    add_key(cursor, leaf)
    _trace("A", "analyze")
    cursor.execute(f"ANALYZE {leaf}")
    cursor.execute(f"DROP TABLE {raw}")
    _trace("A", "wait B")
    other.wait_clean()
    _trace("A", "attach")
    attach_day(cursor, day, groups)
    _trace("A", "attached")
    pairs = bulk_fast.indicators_of_day(cursor, table, day)
    if loader.digest is not None:
        fact_digest.remember(cursor, day, loader.digest, total, stage.batch_id)
    return total, (total, 0, pairs)


def new_leaf(cursor, leaf: str, day: datetime.date, ids: list[int]) -> None:
    """A table for one half of the day: its checks prove both partition bounds, so that
    attaching it reads none of its rows."""
    cursor.execute(f"DROP TABLE IF EXISTS {leaf}")  # left by a killed import (we hold the lock)
    cursor.execute(f"CREATE TABLE {leaf} (LIKE {partitions.PARENT} INCLUDING CONSTRAINTS)")
    cursor.execute(
        f"ALTER TABLE {leaf} ADD CONSTRAINT {leaf}_bound"
        " CHECK (business_date IS NOT NULL AND business_date >= %s AND business_date < %s)",
        [day, day + datetime.timedelta(days=1)],
    )
    cursor.execute(
        f"ALTER TABLE {leaf} ADD CONSTRAINT {leaf}_indicators"
        f" CHECK (indicator_id IS NOT NULL AND indicator_id = ANY (ARRAY[{', '.join(str(int(i)) for i in ids)}]::bigint[]))"
    )


def add_key(cursor, leaf: str) -> None:
    cursor.execute(f"ALTER TABLE {leaf} ADD CONSTRAINT {leaf}_key UNIQUE ({partitions.KEY_COLUMNS})")


def attach_day(cursor, day: datetime.date, groups) -> None:
    table = partitions.partition_name(day)
    cursor.execute(f"CREATE TABLE {table} (LIKE {partitions.PARENT} INCLUDING CONSTRAINTS) PARTITION BY LIST (indicator_id)")
    cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {table}_key UNIQUE ({partitions.KEY_COLUMNS})")
    for name in ("a", "b"):
        ids = ", ".join(str(int(i)) for i in groups[name]["ids"])
        cursor.execute(f"ALTER TABLE {table} ATTACH PARTITION {table}_{name} FOR VALUES IN ({ids})")
    # Indicators made after today land here (empty until then).
    cursor.execute(f"CREATE TABLE {table}_other PARTITION OF {table} DEFAULT")
    cursor.execute(
        f"ALTER TABLE {partitions.PARENT} ATTACH PARTITION {table} FOR VALUES FROM (%s) TO (%s)",
        [day, day + datetime.timedelta(days=1)],
    )
    for name in ("a", "b"):
        cursor.execute(f"ALTER TABLE {table}_{name} DROP CONSTRAINT {table}_{name}_bound")
        cursor.execute(f"ALTER TABLE {table}_{name} DROP CONSTRAINT {table}_{name}_indicators")
    for relation in (table, f"{table}_a", f"{table}_b", f"{table}_other"):
        fact_digest.watch(cursor, relation, day)


class _Other(threading.Thread):
    """Connection B: copies, resolves, fills and keys the second half, commits it unattached."""

    def __init__(self, loader, day, day_text, groups, batch_id, *, compare: bool = False):
        super().__init__(name="kmh-bulk-half-b", daemon=True)
        self.compare = compare
        self.loader, self.day, self.day_text, self.batch_id = loader, day, day_text, batch_id
        self.group, self.a_aliases = groups["b"], groups["a"]["aliases"]
        self.leaf = f"{partitions.partition_name(day)}_b"
        self._to_other: queue.Queue = queue.Queue()
        self._from_other: queue.Queue = queue.Queue()
        self._committed = False
        self._conn = connection.get_new_connection(connection.get_connection_params())

    # -- called from A ---------------------------------------------------------------------
    def copied(self) -> int:
        return self._receive("copied")

    def go(self, first_id: int) -> None:
        self._to_other.put(("go", first_id))

    def compared(self) -> tuple[int, int]:
        """(rows B kept, rows of them equal to the day's facts)."""
        return self._receive("compared")

    def wait_clean(self) -> None:
        self._receive("clean")

    def abandon(self) -> None:
        """A gave up: stop B (if it still waits) and drop what it committed."""
        self._to_other.put(("stop", None))
        self._conn.cancel()  # a statement still running is cut short
        self.join(WAIT_SECONDS)
        if self._committed:
            self._conn.rollback()
            self._conn.execute(f"DROP TABLE IF EXISTS {self.leaf}")
            self._conn.commit()

    def close(self) -> None:
        self._to_other.put(("stop", None))
        self.join(WAIT_SECONDS)
        self._conn.close()

    def _receive(self, expected: str):
        kind, value = self._from_other.get(timeout=WAIT_SECONDS)
        if kind == "error":
            raise _Abandon from value
        if kind != expected:
            raise _Abandon
        return value

    # -- B's own thread --------------------------------------------------------------------
    def run(self) -> None:
        try:
            self._run()
        except Exception as exc:  # handed to A, which falls back to the usual lanes
            self._from_other.put(("error", exc))
            with contextlib.suppress(psycopg.Error):
                self._conn.rollback()

    def _run(self) -> None:
        conn, loader = self._conn, self.loader
        with conn.cursor() as cursor:
            cursor.execute("SET LOCAL work_mem = '256MB'")
            raw = loader.new_raw_table(cursor)
            _trace("B", "copy")
            copied = loader.copy_csv(cursor, raw, where=_copy_where(self.a_aliases, keep=False))
            _trace("B", "copied")
            if self.compare:
                self._compare(cursor, raw, copied)
                return
            self._from_other.put(("copied", copied))
            kind, first_id = self._to_other.get(timeout=WAIT_SECONDS)
            if kind != "go":
                conn.rollback()
                return
            cursor.execute(f"ANALYZE {raw}")
            cursor.execute("SET LOCAL enable_nestloop = off")
            resolved, params = bulk_fast.resolved_rows(raw, self.group["aliases"], loader, self.day, self.day_text)
            new_leaf(cursor, self.leaf, self.day, self.group["ids"])
            _trace("B", "insert")
            try:
                bulk_fast.fill_day_table(
                    cursor, self.leaf, resolved, {**params, "first_id": first_id, "batch": self.batch_id}, copied,
                    work_mem="512MB",
                )
                _trace("B", "key")
                add_key(cursor, self.leaf)
                _trace("B", "keyed")
            except (bulk_fast._NotClean, psycopg.errors.DataError, psycopg.errors.IntegrityError) as exc:
                conn.rollback()
                self._from_other.put(("error", exc))
                return
            cursor.execute(f"ANALYZE {self.leaf}")
            cursor.execute(f"DROP TABLE {raw}")
        conn.commit()
        _trace("B", "committed")
        self._committed = True
        self._from_other.put(("clean", None))

    def _compare(self, cursor, raw: str, copied: int) -> None:
        """Read only: count B's rows equal to the day's facts, then roll back (the raw table goes)."""
        cursor.execute(f"ANALYZE {raw}")
        cursor.execute("SET LOCAL enable_nestloop = off")
        resolved, params = bulk_fast.resolved_rows(raw, self.group["aliases"], self.loader, self.day, self.day_text)
        equal = bulk_fast.count_equal(cursor, resolved, params, self.group["ids"])
        _trace("B", "compared")
        self._conn.rollback()
        self._from_other.put(("compared", (copied, equal)))
