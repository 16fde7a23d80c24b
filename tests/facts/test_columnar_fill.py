"""PostgreSQL: a new day's large clean UTF-8 CSV read and resolved by the process's columnar reader
and poured by two connections (branches.bulk_columnar), with the same result as the other lanes."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection

from branches import bulk_columnar, bulk_parallel, fact_digest
from branches.bulk_import import import_daily_file
from branches.models import Fact, SubjectKind
from tests.facts.conftest import DAY
from tests.facts.test_day_partitions import CLEAN_CSV, write
from tests.facts.test_split_fill import DAY_TABLE, tables_of_the_day

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="facts are partitioned on PostgreSQL only"),
    pytest.mark.django_db(transaction=True),
]

SPLIT_DAY = {DAY_TABLE: "branches_fact", f"{DAY_TABLE}_a": DAY_TABLE, f"{DAY_TABLE}_b": DAY_TABLE, f"{DAY_TABLE}_other": DAY_TABLE}


@pytest.fixture(autouse=True)
def any_size_is_read(monkeypatch):
    monkeypatch.setattr(bulk_columnar, "MIN_BYTES", 0)
    monkeypatch.setattr(bulk_parallel, "MIN_BYTES", 0)
    yield
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {DAY_TABLE}, {DAY_TABLE}_a, {DAY_TABLE}_b")
        cursor.execute(f"DELETE FROM {fact_digest.TABLE}")


@pytest.fixture
def lanes(monkeypatch):
    """Which of the two-connection lanes filled the day: records each call's outcome."""
    taken = []
    for module, name in ((bulk_columnar, "try_columnar_fill"), (bulk_parallel, "try_split_fill")):
        original = getattr(module, name)

        def recording(*args, _original=original, _name=name, **kwargs):
            result = _original(*args, **kwargs)
            taken.append((_name, result is not None))
            return result

        monkeypatch.setattr(module, name, recording)
    return taken


def stored() -> dict:
    return {
        (f.indicator.code, f.subject_kind, f.subject_id): (f.value, f.source_row, f.batch_id, f.version_no)
        for f in Fact.objects.select_related("indicator")
    }


def test_a_clean_file_is_read_by_the_process_and_poured_in_two_halves(small_bank, indicators, tmp_path, lanes):
    outcome = import_daily_file(write(tmp_path, "daily.csv", CLEAN_CSV))
    assert (outcome.rows, outcome.new, outcome.changed, outcome.error_count) == (4, 4, 0, 0)
    assert lanes == [("try_columnar_fill", True)]
    assert tables_of_the_day() == SPLIT_DAY
    staff = SubjectKind.STAFF
    assert stored() == {
        ("DEP", staff, small_bank["s1"].pk): (Decimal("1200000.5"), 2, outcome.batch_id, 1),
        ("DEP", staff, small_bank["s2"].pk): (Decimal("300000"), 3, outcome.batch_id, 1),
        ("POS", staff, small_bank["s2"].pk): (Decimal("3"), 4, outcome.batch_id, 1),
        ("COLL", staff, small_bank["s3"].pk): (Decimal("0.97"), 5, outcome.batch_id, 1),
    }
    # One block of ids for the file, in the file's order; the sequence moved past it.
    by_row = dict(Fact.objects.values_list("source_row", "pk"))
    assert [by_row[row] - by_row[2] for row in (2, 3, 4, 5)] == [0, 1, 2, 3]
    assert sorted(outcome.changed_pairs) == sorted((i.pk, DAY) for i in indicators.values())
    with connection.cursor() as cursor:
        # The constant columns' defaults were only for the stream.
        cursor.execute(
            "SELECT COUNT(*) FROM pg_attrdef d JOIN pg_class c ON c.oid = d.adrelid WHERE c.relname IN (%s, %s)",
            [f"{DAY_TABLE}_a", f"{DAY_TABLE}_b"],
        )
        assert cursor.fetchone()[0] == 0
    # The day's digest was kept: the same file again is known without reading it into the server.
    again = import_daily_file(write(tmp_path, "daily.csv", CLEAN_CSV))
    assert (again.unchanged, again.new) == (4, 0)
    assert lanes == [("try_columnar_fill", True)]


def test_rows_are_numbered_across_blocks_and_a_last_line_without_its_end(small_bank, indicators, tmp_path, monkeypatch, lanes):
    monkeypatch.setattr(bulk_columnar, "BLOCK_BYTES", 7)  # shorter than any line
    text = CLEAN_CSV + "2027-01-04,E001,POS,12\n2027-01-04,E003,DEP,-5.25"
    outcome = import_daily_file(write(tmp_path, "daily.csv", text))
    assert (outcome.new, outcome.error_count) == (6, 0)
    assert lanes == [("try_columnar_fill", True)]
    rows = {(code, subject): (value, row) for (code, _kind, subject), (value, row, _b, _v) in stored().items()}
    assert rows[("POS", small_bank["s1"].pk)] == (Decimal("12"), 6)
    assert rows[("DEP", small_bank["s3"].pk)] == (Decimal("-5.25"), 7)
    assert rows[("COLL", small_bank["s3"].pk)] == (Decimal("0.97"), 5)


@pytest.mark.parametrize("encoding", ["utf-8", "gb18030"])
def test_units_and_staff_in_one_file_with_the_date_given_and_cells_without_it(
    small_bank, indicators, tmp_path, lanes, encoding
):
    text = (
        "业务日期,机构号,工号,指标,数值\n"
        "2027-01-04,B1,,存款余额,5000000.123456\n"
        ",,E002,POS,2\n"
        "2027-01-04,,E001,COLL,1\n"
    )
    path = tmp_path / "daily.csv"
    path.write_bytes(text.encode(encoding))
    outcome = import_daily_file(path, business_date=DAY)
    assert (outcome.new, outcome.error_count) == (3, 0)
    assert lanes == [("try_columnar_fill", True)]
    values = {(code, kind, subject): value for (code, kind, subject), (value, *_rest) in stored().items()}
    assert values == {
        # numeric(20,4) rounds half up on the server, as in every lane.
        ("DEP", SubjectKind.UNIT, small_bank["b1"].pk): Decimal("5000000.1235"),
        ("POS", SubjectKind.STAFF, small_bank["s2"].pk): Decimal("2"),
        ("COLL", SubjectKind.STAFF, small_bank["s1"].pk): Decimal("1"),
    }


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        ('business_date,employee_no,indicator,value\n2027-01-04,"E001",DEP,1\n2027-01-04,E002,POS,2\n', "utf-8"),
        ("business_date,employee_no,indicator,value\n2027-01-04,E001,DEP, 1\n2027-01-04,E002,POS,2\n", "utf-8"),
        ("business_date,employee_no,indicator,value\n2027-01-04,E001,DEP,123456789012345.5\n2027-01-04,E002,POS,2\n", "utf-8"),
    ],
    ids=["a quoted cell", "a value with a space", "15 digits before the point"],
)
def test_forms_this_lane_does_not_take_go_to_the_server_lanes(small_bank, indicators, tmp_path, lanes, text, encoding):
    path = tmp_path / "daily.csv"
    path.write_bytes(text.encode(encoding))
    outcome = import_daily_file(path)
    assert (outcome.new, outcome.error_count) == (2, 0)
    assert lanes == [("try_columnar_fill", False), ("try_split_fill", True)]
    assert tables_of_the_day() == SPLIT_DAY


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("2027-01-04,E999,DEP,1", "E999"),
        ("2027-01-04,E001,XYZ,1", "XYZ"),
        ("2027-01-04,E001,COLL,1.5", "1.5"),
        ("2027-01-04,E001,POS,-3", "-3"),
        ("2027-13-04,E001,POS,3", "2027-13-04"),
        ("2027-01-04,E001,DEP,", ""),
    ],
    ids=["unknown employee", "unknown indicator", "rate above 1", "negative count", "no such day", "empty value"],
)
def test_a_bad_row_is_named_by_the_general_pipeline_and_leaves_no_table(small_bank, indicators, tmp_path, lanes, row, message):
    outcome = import_daily_file(write(tmp_path, "bad.csv", CLEAN_CSV + row + "\n"))
    assert outcome.error_count >= 1 and outcome.errors[0].row_no == 6
    assert message in outcome.errors[0].message or message in str(outcome.errors[0].value or "")
    assert lanes[0] == ("try_columnar_fill", False)
    assert Fact.objects.count() == 0
    assert tables_of_the_day() == {}


def test_a_line_with_a_cell_too_many_is_refused_as_malformed(small_bank, indicators, tmp_path, lanes):
    outcome = import_daily_file(write(tmp_path, "bad.csv", CLEAN_CSV + "2027-01-04,E001,DEP,1,2\n"))
    assert outcome.error_count == 1 and "malformed" in outcome.errors[0].message
    assert lanes[0] == ("try_columnar_fill", False)
    assert tables_of_the_day() == {}


@pytest.mark.parametrize("indicator", ["DEP", "POS"])
def test_a_key_twice_or_a_value_too_large_in_either_half_leaves_no_table(
    small_bank, indicators, tmp_path, lanes, indicator, monkeypatch
):
    split_fills = []
    original = bulk_parallel._fill
    monkeypatch.setattr(bulk_parallel, "_fill", lambda *a: split_fills.append(1) or original(*a))
    twice = CLEAN_CSV + f"2027-01-04,E002,{indicator},4\n"
    outcome = import_daily_file(write(tmp_path, "twice.csv", twice))
    assert sorted(e.row_no for e in outcome.errors) == ([3, 6] if indicator == "DEP" else [4, 6])
    # The server refused the key: the other fast lanes would too, and did not pour the file again.
    assert lanes[0] == ("try_columnar_fill", False) and split_fills == []
    assert tables_of_the_day() == {}
    large = CLEAN_CSV + f"2027-01-04,E004,{indicator},12345678901234567\n"
    outcome = import_daily_file(write(tmp_path, "large.csv", large))
    assert outcome.error_count == 1 and outcome.errors[0].row_no == 6
    assert tables_of_the_day() == {}


def test_when_the_second_connection_fails_the_other_lanes_import_the_file(small_bank, indicators, tmp_path, lanes, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("the second connection broke")

    original = bulk_columnar._pour
    monkeypatch.setattr(bulk_columnar, "_pour", lambda pl, cursor, leaf, *a: (broken if leaf.endswith("_b") else original)(pl, cursor, leaf, *a))
    outcome = import_daily_file(write(tmp_path, "daily.csv", CLEAN_CSV))
    assert (outcome.new, outcome.error_count) == (4, 0)
    assert lanes == [("try_columnar_fill", False), ("try_split_fill", True)]
    assert len(stored()) == 4


def test_a_file_below_the_size_or_without_polars_is_left_to_the_other_lanes(small_bank, indicators, tmp_path, lanes, monkeypatch):
    monkeypatch.setattr(bulk_columnar, "MIN_BYTES", 1 << 20)
    import_daily_file(write(tmp_path, "daily.csv", CLEAN_CSV))
    assert lanes == [("try_columnar_fill", False), ("try_split_fill", True)]
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {DAY_TABLE}")
    monkeypatch.setattr(bulk_columnar, "MIN_BYTES", 0)
    monkeypatch.setattr(bulk_columnar, "load_polars", lambda: None)
    lanes.clear()
    import_daily_file(write(tmp_path, "again.csv", CLEAN_CSV))
    assert lanes == [("try_columnar_fill", False), ("try_split_fill", True)]


# Values at the edges of what each measure takes: the lane must store what the server lanes store
# and refuse what they refuse (refusing more is allowed: the server lanes then take the file).
EDGE_VALUES = ["0", "+3", "-0", ".5", "5.", "00.5", "1.0000", "0.99995", "1.00004", "1.00005", "-0.00001", "-2.00005",
               "99999999999999.99995", "1234567890123456.12345", "12345678901234567", "NaN", "1_000", "0x1F", ".",
               "1." + "0" * 255, "1." + "0" * 256, "1." + "0" * 16384]


TAKEN = {
    "DEP": {"0", "+3", "-0", ".5", "5.", "00.5", "1.0000", "0.99995", "1.00004", "1.00005", "-0.00001", "-2.00005",
            "99999999999999.99995", "1." + "0" * 255},
    "POS": {"0", "+3", "-0", "5.", "1.0000", "0.99995", "1.00004", "-0.00001", "99999999999999.99995", "1." + "0" * 255},
    "COLL": {"0", "-0", ".5", "00.5", "1.0000", "0.99995", "1.00004", "-0.00001", "1." + "0" * 255},
}


@pytest.mark.parametrize("indicator", ["DEP", "POS", "COLL"])
@pytest.mark.parametrize("value", EDGE_VALUES, ids=lambda v: v if len(v) < 30 else f"1. and {len(v) - 2} zeros")
def test_every_edge_value_ends_as_with_the_server_lanes(small_bank, indicators, tmp_path, monkeypatch, lanes, indicator, value):
    text = f"business_date,employee_no,indicator,value\n2027-01-04,E001,{indicator},{value}\n2027-01-04,E002,DEP,1\n"

    def imported():
        outcome = import_daily_file(write(tmp_path, "edge.csv", text))
        result = (outcome.new, [(e.row_no, e.message) for e in outcome.errors], sorted(v for v, *_ in stored().values()))
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {DAY_TABLE}")
            cursor.execute(f"DELETE FROM {fact_digest.TABLE}")
        return result

    with_the_lane = imported()
    assert lanes[0] == ("try_columnar_fill", value in TAKEN[indicator])
    monkeypatch.setattr(bulk_columnar, "MIN_BYTES", 1 << 40)
    assert imported() == with_the_lane


@pytest.mark.parametrize(
    "text",
    [
        "business_date,employee_no,indicator,value\n2027-01-04,E001,DEP,1\n2027-01-04,E002,POS,2\r\n",
        "business_date,employee_no,indicator,value\r\n2027-01-04,E001,DEP,1\r\n2027-01-04,E002,POS,2\n",
        "business_date,employee_no,indicator,value\n2027-01-04,E001,DEP,1\n\ufeff2027-01-04,E002,POS,2\n",
        "business_date,employee_no,indicator,value\n2027-01-04,E001,DEP\n2027-01-04,E002,POS,2,3\n",
        "business_date,employee_no,indicator,value\n2027-01-04\x00,E001,DEP,1\n2027-01-04\x00,E002,POS,2\n",
    ],
    ids=["a crlf line in a lf file", "a lf line in a crlf file", "a byte-order mark inside", "a short line and a long one",
         "a nul byte"],
)
def test_lines_copy_would_read_otherwise_are_left_to_the_other_lanes(small_bank, indicators, tmp_path, lanes, text):
    outcome = import_daily_file(write(tmp_path, "odd.csv", text))
    assert lanes[0] == ("try_columnar_fill", False)
    assert outcome.error_count == 1 and Fact.objects.count() == 0
    assert tables_of_the_day() == {}


def test_a_crlf_file_is_taken_to_its_last_line_without_its_end(small_bank, indicators, tmp_path, lanes):
    text = "business_date,employee_no,indicator,value\r\n2027-01-04,E001,DEP,1\r\n2027-01-04,E002,POS,2"
    outcome = import_daily_file(write(tmp_path, "crlf.csv", text))
    assert (outcome.new, outcome.error_count) == (2, 0)
    assert lanes == [("try_columnar_fill", True)]
    assert sorted(Fact.objects.values_list("source_row", "value")) == [(2, Decimal("1")), (3, Decimal("2"))]


def test_a_failure_after_both_halves_are_poured_leaves_nothing_and_waits_for_nothing(
    small_bank, indicators, tmp_path, lanes, monkeypatch
):
    # The day's tables are made and both halves attached when the failure comes: B's committed
    # table must be dropped once A has let go of it (or the two would wait for each other).
    calls = []
    original = fact_digest.watch

    def failing_once(*args):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("the watch trigger could not be made")
        return original(*args)

    monkeypatch.setattr(fact_digest, "watch", failing_once)
    outcome = import_daily_file(write(tmp_path, "daily.csv", CLEAN_CSV))
    assert (outcome.new, outcome.error_count) == (4, 0)
    assert lanes == [("try_columnar_fill", False), ("try_split_fill", True)]
    assert len(stored()) == 4 and tables_of_the_day() == SPLIT_DAY


def test_a_gb18030_file_with_a_byte_that_is_not_gb18030_is_left_to_the_other_lanes(small_bank, indicators, tmp_path, lanes):
    path = tmp_path / "daily.csv"
    path.write_bytes("业务日期,工号,指标,数值\n2027-01-04,E001,存款余额,1\n".encode("gb18030") + b"2027-01-04,E002,POS,\x80\n")
    outcome = import_daily_file(path)
    assert lanes[0] == ("try_columnar_fill", False)
    assert outcome.error_count == 1 and Fact.objects.count() == 0
    assert tables_of_the_day() == {}


@pytest.mark.parametrize("fault", ["a panic in polars", "no thread to be had"])
def test_a_fault_of_the_lane_is_logged_and_the_other_lanes_import_the_file(
    small_bank, indicators, tmp_path, lanes, monkeypatch, caplog, fault
):
    if fault == "a panic in polars":
        def panicking(*args):
            raise bulk_columnar.load_polars().exceptions.PanicException("polars panicked")

        monkeypatch.setattr(bulk_columnar, "_read", panicking)
    else:
        def refused(self):
            raise RuntimeError("can't start new thread")

        monkeypatch.setattr(bulk_columnar._Second, "start", refused)
    outcome = import_daily_file(write(tmp_path, "daily.csv", CLEAN_CSV))
    assert (outcome.new, outcome.error_count) == (4, 0)
    assert lanes == [("try_columnar_fill", False), ("try_split_fill", True)]
    assert "the columnar fill of daily.csv failed" in caplog.text
