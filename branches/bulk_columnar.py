"""PostgreSQL: a new day's large clean CSV read, resolved and sorted by the import's own process
with a columnar reader (polars), then poured as typed rows by two connections, one half of the
indicators each, into the day's two tables (``branches.bulk_parallel``'s layout).

Why not in SQL: done by the server, each connection parses the whole file into a raw table
(``COPY … WHERE``), reads it back, joins it with the employee numbers, sorts it and inserts it
row by row: about 6.5 s of server time a half for the national file, 13 s on two cores, and the
first import stayed at 4.3–6.6 × a bare ``COPY`` (docs/performance.md). Here the file is parsed
once, on both cores, by the reader; the server's work is one ``COPY`` of typed rows in the key's
order per half, and the key over them (national file: 5.2–5.5 s, 3.1–3.25 × the floor,
380–390 MiB).

* The file is read in blocks cut at line ends (not by its path: the reader would map the whole
  file into the process). A block with a quote, or a line with another number of commas than the
  header's: the lane does not take the file (the others do, with the same result). So each line
  is one row, and its number in the file is the count of lines before it.
* Each block's rows are resolved against the employee numbers, unit codes and indicator texts
  (fetched once) and checked as ``bulk_fast.resolved_rows`` checks them: the same exact match of
  cells, the same day, the same measure checks on the value as ``numeric(20,4)`` rounds it
  (half away from zero at the fourth decimal, computed here in ten-thousandths). Stricter only on
  form: plain digits and a point, under 10¹⁴. A single row that fails, and the lane does not take
  the file: the usual lanes take it and name the problem when there is one.
* The ids of the whole file are reserved at once (fact id = first id + row number − 2, as in the
  other lanes); each connection writes its indicators' rows, sorted by the key, with ``COPY``
  into its table, builds the key (presorted: no sort) and its statistics; B commits its table
  unattached, A attaches both in the import's transaction. A key twice: A rolls back, B's table
  is dropped, and the general pipeline takes the file.

Memory: the resolved rows (about 25 bytes each, kept by indicator and let go as each is poured)
and one block's frames; polars' allocator is told to hand freed pages back at once.
"""

from __future__ import annotations

import codecs
import contextlib
import io
import logging
import os
import queue
import threading
import time

import psycopg
from django.db import DatabaseError, IntegrityError, connection, transaction

from branches import bulk_fast, bulk_parallel, fact_digest, facts
from branches import fact_partitions as partitions
from branches.models import Measure, Staff, SubjectKind, Unit

# As bulk_parallel.MIN_BYTES: below it, the second connection and the reader cost what they save.
MIN_BYTES = 64 << 20
BLOCK_BYTES = 32 << 20
MAX_LINE_BYTES = 1 << 20
COPY_ROWS = 100_000
WAIT_SECONDS = 3600

# What the lane takes as a number: stricter than the server's cast (no spaces, no exponent, no
# NaN or infinity, no thousands separators) and below MAX_WHOLE; the usual lanes take any other
# (and name what they refuse).
NUMBER = r"^[+-]?([0-9]+(\.[0-9]{0,255})?|\.[0-9]{1,255})$"  # decimals as bulk_import.NUMBER_PATTERN
MAX_WHOLE = 10**14  # ten-thousandths of it fit in a bigint
SCALE = 10_000  # values are held in ten-thousandths, as numeric(20,4) keeps them

_COPY_COLUMNS = "id, indicator_id, subject_kind, subject_id, value, source_row"

_log = logging.getLogger(__name__)
_started = [0.0]


def _trace(step: str) -> None:
    _log.debug("columnar fill: %s at %.2f s", step, time.perf_counter() - _started[0])


class _NotTaken(Exception):
    """The file is not for this lane (its form, or a row that does not pass): the others take it."""


def load_polars():
    """The polars module, or None when it cannot be imported (the other lanes then take the files)."""
    # jemalloc in polars keeps freed pages for seconds by default; the read's block frames would
    # then stay in the process (about 150 MB more at the peak for the national file).
    os.environ.setdefault("_RJEM_MALLOC_CONF", "dirty_decay_ms:0,muzzy_decay_ms:0")
    try:
        import polars as pl
    except ImportError:
        return None
    return pl


def try_columnar_fill(cursor, loader, stage: facts.Stage) -> tuple[int, tuple[int, int, list]] | None:
    """Fill a new day from a large clean UTF-8 or GB18030 CSV; (rows, (new, 0, pairs)) or None.

    None leaves nothing behind: the caller reads the file the usual way.
    """
    if loader.encoding not in ("utf-8", "gb18030"):
        return None
    new_day = bulk_parallel.new_day_to_split(cursor, loader, stage, min_bytes=MIN_BYTES)
    pl = load_polars() if new_day is not None else None  # imported only for a file it may take
    if pl is None:
        return None
    day, day_text, groups = new_day
    _started[0] = time.perf_counter()
    second, result = None, None
    try:
        # A savepoint around it all, reads included: whatever fails leaves the import's
        # transaction as it was.
        with transaction.atomic():
            rows, total, digest = _read(pl, cursor, loader, day_text)
            if digest is not None:
                loader.digest = digest  # of the whole file: the other lanes need not hash it again
            _trace(f"read and resolved {total} rows")
            if not total:
                raise _NotTaken
            present = sorted(rows)  # the indicators with figures (the pours let their rows go)
            first_id = bulk_fast.reserve_ids(cursor, total)
            second = _Second(pl, rows, day, groups["b"]["ids"], first_id, stage.batch_id)
            second.start()
            mine = _pour(
                pl, cursor.cursor, _leaf(day, "a"), day, groups["a"]["ids"], rows, first_id, stage.batch_id
            )
            _trace("half a keyed")
            theirs = second.result()
            _trace("half b committed")
            if mine + theirs != total:
                raise _NotTaken
            bulk_parallel.attach_day(cursor, day, groups)
            if loader.digest is not None:
                fact_digest.remember(cursor, day, loader.digest, total, stage.batch_id)
            _trace("attached")
        result = total, (total, 0, [(int(pk), day) for pk in present])
    except (IntegrityError, psycopg.errors.IntegrityError):
        # A key twice (the key refuses it): every other fast lane would find the same, and only the
        # general pipeline tells equal repeats (taken once) from different ones (named).
        loader.fast_failed = True
    except (_NotTaken, DatabaseError, psycopg.Error, pl.exceptions.PolarsError):
        pass
    except (Exception, pl.exceptions.PanicException):  # a panic in polars is no Exception
        # A fault of this lane must not fail an import the other lanes can make.
        _log.exception("the columnar fill of %s failed; the other lanes take the file", loader.path.name)
    finally:
        if second is not None:
            # After the savepoint's rollback: A no longer locks B's table, which B may now drop.
            if result is None:
                second.abandon()
            second.close()
    return result


def _leaf(day, half: str) -> str:
    return f"{partitions.partition_name(day)}_{half}"


def _read(pl, cursor, loader, day_text: str | None):
    """(resolved rows by indicator, row count, the file's digest or None when the loader has it),
    or _NotTaken.

    The file goes to the reader in blocks cut at line ends, not by its path: the reader would map
    the whole file into the process (193 MB of the national file's pages counted in its memory).
    """
    maps = _maps(pl, cursor, loader)
    schema = {name: pl.String for name in loader.columns}
    blocks = _Blocks(loader, commas=len(schema) - 1)
    parts: dict[int, list] = {}
    row_no = 2
    # (Reading the next block in a thread meanwhile saved 0.1 s of 5 and cost 40 MiB more.)
    with blocks:
        while (block := blocks.next()) is not None:
            chunk, lines = block
            try:
                part = _resolved(
                    pl,
                    pl.scan_csv(
                        io.BytesIO(chunk),
                        has_header=False,
                        schema=schema,
                        row_index_name="row_no",
                        row_index_offset=row_no,
                        truncate_ragged_lines=False,
                    ),
                    maps,
                    loader,
                    day_text,
                ).collect(engine="streaming")
            except pl.exceptions.PolarsError:
                raise _NotTaken from None  # not UTF-8, or a line the reader splits otherwise
            if part.height != lines:
                raise _NotTaken  # a row that does not pass
            # Kept by indicator: each is then sorted and poured on its own, and let go.
            for (indicator_id,), rows in part.partition_by(
                "indicator_id", as_dict=True, include_key=False
            ).items():
                parts.setdefault(indicator_id, []).append(rows)
            row_no += lines
    return parts, row_no - 2, blocks.digest


class _Blocks:
    """The file's data lines in blocks cut at line ends, each checked to be read by the reader as
    COPY reads it, one row a line; the file's digest taken on the way (unless the loader has it)."""

    def __init__(self, loader, *, commas: int):
        self.commas = commas
        self.gb18030 = loader.encoding == "gb18030"
        # Half the blocks for GB18030: its text is made anew as UTF-8 (national file with Chinese
        # indicator names: 486 MiB at the peak with 32 MB blocks).
        self.block_bytes = BLOCK_BYTES // 2 if self.gb18030 else BLOCK_BYTES
        self.digest = None if loader.digest is not None else fact_digest.FileDigest(loader.business_date)
        self.crlf = None  # the line end of the first data line, as COPY takes it for the whole file
        self._rest = b""
        self._handle = loader.path.open("rb")
        header = self._handle.read(loader.header_bytes)
        if self.digest is not None:
            self.digest.update(header)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self._handle.close()

    def next(self) -> tuple[bytes, int] | None:
        """(block, lines in it), None at the end, or _NotTaken."""
        while True:
            block = self._handle.read(self.block_bytes)
            if self.digest is not None and block:
                self.digest.update(block)
            data = self._rest + block
            if not data:
                return None
            if not block:
                self._rest = b""
                return self._checked(
                    data if data.endswith(b"\n") else data + (b"\r\n" if self.crlf else b"\n")
                )
            cut = data.rfind(b"\n") + 1
            self._rest = data[cut:]
            if cut:
                return self._checked(data[:cut])
            if len(self._rest) > MAX_LINE_BYTES:
                raise _NotTaken  # no daily file's line

    def _checked(self, chunk: bytes) -> tuple[bytes, int]:
        lines = chunk.count(b"\n")
        if self.crlf is None:
            self.crlf = chunk[: chunk.find(b"\n")].endswith(b"\r")
        # Each line one row, as COPY reads it: no quote (two lines could be one row), the
        # header's number of commas in every line (one could be none), every line ending as the
        # first (COPY refuses a line ending otherwise; the reader would take it), and no
        # byte-order mark (the reader drops one at the start of a block; COPY keeps it).
        if (
            b'"' in chunk
            or chunk.count(b",") != self.commas * lines
            or chunk.count(b"\r") != (lines if self.crlf else 0)
            or (self.crlf and chunk.count(b"\r\n") != lines)
            or b"\x00" in chunk  # COPY refuses it; the reader keeps it in the cell
        ):
            raise _NotTaken
        if self.gb18030:
            # For the reader, which reads UTF-8 only (0.5 s for the national file; 1.2 s were
            # every indicator named in Chinese). GB18030's bytes of two or four never hold a line
            # end, a comma or a quote: the checks above hold for its text as for UTF-8's.
            try:
                chunk = chunk.decode("gb18030").encode()
            except UnicodeDecodeError:
                raise _NotTaken from None  # COPY would refuse it as the file's encoding
        if codecs.BOM_UTF8 in chunk:
            raise _NotTaken
        return chunk, lines


def _maps(pl, cursor, loader) -> dict:
    """The texts a row may name, as frames: indicator (id, measure), employee number and unit code."""
    aliases = bulk_fast.indicator_aliases()
    maps = {
        "indicators": pl.DataFrame(
            {
                facts.COL_INDICATOR: list(aliases),
                "indicator_id": [pk for pk, _measure in aliases.values()],
                "measure": [measure for _pk, measure in aliases.values()],
            },
            schema={facts.COL_INDICATOR: pl.String, "indicator_id": pl.Int64, "measure": pl.String},
        ).lazy()
    }
    if facts.COL_STAFF in loader.columns:
        maps["staff"] = _fetched(pl, cursor, Staff._meta.db_table, "employee_no", facts.COL_STAFF, "staff_id")
    if facts.COL_UNIT in loader.columns:
        maps["units"] = _fetched(pl, cursor, Unit._meta.db_table, "code", facts.COL_UNIT, "unit_id")
    return maps


def _fetched(pl, cursor, table: str, column: str, text: str, pk: str):
    """(code, id) of every row of ``table`` as a lazy frame. One text of tab-separated lines: a
    third of the time of ``COPY … TO`` (which sends a message per row) for 500,000 employees."""
    cursor.execute(f"SELECT COUNT(*), string_agg({column} || E'\\t' || id, E'\\n') FROM {table}")
    count, lines = cursor.fetchone()
    schema = {text: pl.String, pk: pl.Int64}
    if not count:
        return pl.DataFrame(schema=schema).lazy()
    if lines.startswith("\ufeff"):
        raise _NotTaken  # the reader would drop it from the first code
    frame = pl.read_csv(
        io.BytesIO(lines.encode()),
        separator="\t",
        quote_char=None,
        has_header=False,
        new_columns=list(schema),
        schema=schema,
    )
    if frame.height != count:
        raise _NotTaken  # a code with a line break in it
    return frame.lazy()


def _resolved(pl, rows, maps: dict, loader, day_text: str | None):
    """The rows of the lazy frame ``rows`` that pass every check, as (indicator_id, subject_kind,
    subject_id, value, row_no): a lazy frame."""
    col = pl.col
    has_staff, has_unit = "staff" in maps, "units" in maps
    rows = rows.join(maps["indicators"], on=facts.COL_INDICATOR, how="inner")
    if has_staff:
        rows = rows.join(maps["staff"], on=facts.COL_STAFF, how="left")
    if has_unit:
        rows = rows.join(maps["units"], on=facts.COL_UNIT, how="left")
    conditions = []
    if has_staff and has_unit:
        # Exactly one of the two cells filled, and it names someone.
        conditions.append(col(facts.COL_STAFF).is_null() != col(facts.COL_UNIT).is_null())
        kind = (
            pl.when(col(facts.COL_STAFF).is_not_null())
            .then(int(SubjectKind.STAFF))
            .otherwise(int(SubjectKind.UNIT))
        )
        subject = pl.coalesce("staff_id", "unit_id")
    elif has_staff:
        kind, subject = pl.lit(int(SubjectKind.STAFF)), col("staff_id")
    else:
        kind, subject = pl.lit(int(SubjectKind.UNIT)), col("unit_id")
    conditions.append(subject.is_not_null())
    if day_text is not None:
        same_day = col(facts.COL_DATE) == day_text
        # An empty date cell takes the --date day, as in the general pipeline.
        conditions.append(same_day | col(facts.COL_DATE).is_null() if loader.business_date else same_day)
    text = col(facts.COL_VALUE)
    conditions.append(text.str.contains(NUMBER))
    # The measure's checks on the value as the cast leaves it (rounded to 4 decimals).
    value = col("ten_thousandths")
    conditions.append(value.is_not_null())
    conditions.append((col("measure") != Measure.COUNT.value) | ((value >= 0) & (value % SCALE == 0)))
    conditions.append((col("measure") != Measure.RATE.value) | value.is_between(0, SCALE))
    # Each step in a column of its own: an expression used twice is computed twice.
    return (
        rows.with_columns(
            negative=text.str.starts_with("-"),
            digits=text.str.strip_chars_start("+-").str.split_exact(".", 1),
        )
        .with_columns(
            whole=col("digits").struct.field("field_0"), fraction=col("digits").struct.field("field_1")
        )
        .with_columns(
            ten_thousandths=_ten_thousandths(pl, col("negative"), col("whole"), col("fraction").fill_null(""))
        )
        .filter(pl.all_horizontal(conditions))
        .select(
            col("indicator_id").cast(pl.Int32),
            kind.cast(pl.Int8).alias("subject_kind"),
            subject.cast(pl.Int64).alias("subject_id"),
            value.alias("value"),
            col("row_no").cast(pl.Int32),
        )
    )


def _ten_thousandths(pl, negative, whole, fraction):
    """The number rounded half away from zero to 4 decimals, as ``numeric(20,4)``'s cast rounds it
    (only the fifth decimal decides), in ten-thousandths; null from MAX_WHOLE on (a bigint holds
    no more)."""
    whole = whole.str.pad_start(1, "0").cast(pl.Int64, strict=False)
    first_four = fraction.str.slice(0, 4).str.pad_end(4, "0").cast(pl.Int64, strict=False)
    rounds_up = (fraction.str.slice(4, 1) >= "5").cast(pl.Int64)
    magnitude = pl.when(whole < MAX_WHOLE).then(whole * SCALE + first_four + rounds_up)
    return pl.when(negative).then(-magnitude).otherwise(magnitude)


def _decimal_text(pl, value):
    """Ten-thousandths back to the number's text (the server casts it without rounding)."""
    magnitude = value.abs()
    return pl.concat_str(
        pl.when(value < 0).then(pl.lit("-")).otherwise(pl.lit("")),
        (magnitude // SCALE).cast(pl.String),
        pl.lit("."),
        (magnitude % SCALE).cast(pl.String).str.pad_start(4, "0"),
    )


def _pour(
    pl, cursor, leaf: str, day, indicator_ids: list[int], rows, first_id: int, batch_id: int, stop=None
) -> int:
    """Write ``rows`` of ``indicator_ids`` into a new ``leaf`` in the order of the key, key it;
    returns the rows written. ``cursor``: a psycopg cursor (of the import's or the second
    connection); ``stop``: an Event that, once set, stops the pour (the other side gave up)."""
    bulk_parallel.new_leaf(cursor, leaf, day, indicator_ids)
    # Columns the same in every row come from defaults, not from the stream (literals: utility
    # statements take no parameters).
    cursor.execute(
        f"ALTER TABLE {leaf} ALTER COLUMN business_date SET DEFAULT '{day.isoformat()}'::date,"
        f" ALTER COLUMN version_no SET DEFAULT 1, ALTER COLUMN batch_id SET DEFAULT {int(batch_id)}"
    )
    written = 0
    with cursor.copy(f"COPY {leaf} ({_COPY_COLUMNS}) FROM STDIN WITH (FORMAT csv)") as copy:
        for indicator_id in sorted(indicator_ids):
            pieces = rows.pop(indicator_id, [])
            if not pieces:
                continue
            # The key's order within the indicator.
            piece = pl.concat(pieces).sort(["subject_kind", "subject_id"])
            del pieces
            for start in range(0, piece.height, COPY_ROWS):
                if stop is not None and stop.is_set():
                    raise _NotTaken
                out = piece.slice(start, COPY_ROWS).select(
                    (pl.col("row_no").cast(pl.Int64) + (first_id - 2)).alias("id"),
                    pl.lit(indicator_id, pl.Int64).alias("indicator_id"),
                    "subject_kind",
                    "subject_id",
                    _decimal_text(pl, pl.col("value")),
                    pl.col("row_no").alias("source_row"),
                )
                copy.write(out.write_csv(include_header=False))
                written += out.height
            del piece
    cursor.execute(
        f"ALTER TABLE {leaf} ALTER COLUMN business_date DROP DEFAULT, ALTER COLUMN version_no DROP DEFAULT,"
        " ALTER COLUMN batch_id DROP DEFAULT"
    )
    # Rows in key order: one pass builds the key; workers would only split a sort with nothing to do.
    cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
    cursor.execute("SET LOCAL max_parallel_maintenance_workers = 0")
    bulk_parallel.add_key(cursor, leaf)
    cursor.execute("SET LOCAL maintenance_work_mem TO DEFAULT")
    cursor.execute("SET LOCAL max_parallel_maintenance_workers TO DEFAULT")
    cursor.execute(f"ANALYZE {leaf}")
    return written


class _Second(threading.Thread):
    """Connection B: pours the second half into its table and commits it, unattached."""

    def __init__(self, pl, rows, day, indicator_ids, first_id, batch_id):
        super().__init__(name="kmh-bulk-columnar-b", daemon=True)
        self._args = (pl, rows, day, indicator_ids, first_id, batch_id)
        self.leaf = _leaf(day, "b")
        self._outcome: queue.Queue = queue.Queue()
        self._committed = False
        self._given_up = threading.Event()
        self._conn = connection.get_new_connection(connection.get_connection_params())

    def run(self) -> None:
        pl, rows, day, indicator_ids, first_id, batch_id = self._args
        try:
            with self._conn.cursor() as cursor:
                written = _pour(
                    pl, cursor, self.leaf, day, indicator_ids, rows, first_id, batch_id, self._given_up
                )
            self._conn.commit()
            self._committed = True
            self._outcome.put(("clean", written))
        except BaseException as exc:  # handed to A (which would otherwise wait), then the other lanes
            with contextlib.suppress(psycopg.Error):
                self._conn.rollback()
            self._outcome.put(("error", exc))

    def result(self) -> int:
        kind, value = self._outcome.get(timeout=WAIT_SECONDS)
        if kind == "error":
            if isinstance(value, psycopg.Error):
                raise value  # a key twice in B's half, say: as in A's
            raise _NotTaken from value
        return value

    def abandon(self) -> None:
        """A gave up: stop B's pour, cut its statement short and drop what it committed."""
        self._given_up.set()
        with contextlib.suppress(psycopg.Error):
            self._conn.cancel()
        if self.ident is not None:  # started
            self.join(WAIT_SECONDS)
        if self._committed:
            with contextlib.suppress(psycopg.Error):
                self._conn.rollback()
                self._conn.execute(f"DROP TABLE IF EXISTS {self.leaf}")
                self._conn.commit()

    def close(self) -> None:
        if self.ident is not None:
            self.join(WAIT_SECONDS)
        self._conn.close()
