"""PostgreSQL: a new day's large clean file is poured by two connections into a day partitioned by
indicator (branches.bulk_parallel), with the same guarantees as one connection."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection

from branches import bulk_parallel, fact_digest, fact_partitions, facts
from branches.bulk_import import import_daily_file
from branches.facts import FactSource, merge_facts
from branches.models import Fact, FactVersion, ImportBatch, Indicator, SubjectKind
from tests.facts.conftest import DAY
from tests.facts.test_day_partitions import CLEAN_CSV, write

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="facts are partitioned on PostgreSQL only"),
    # The second connection sees only what is committed: the bank must be.
    pytest.mark.django_db(transaction=True),
]

DAY_TABLE = fact_partitions.partition_name(DAY)


@pytest.fixture(autouse=True)
def any_size_is_split(monkeypatch):
    monkeypatch.setattr(bulk_parallel, "MIN_BYTES", 0)
    yield
    # Committed day partitions outlive the flush of the tables Django knows.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
            " WHERE i.inhparent = 'branches_fact'::regclass AND c.relname <> 'branches_fact_default'"
        )
        for (name,) in cursor.fetchall():
            cursor.execute(f"DROP TABLE {name}")
        cursor.execute(f"DROP TABLE IF EXISTS {DAY_TABLE}_a, {DAY_TABLE}_b")
        cursor.execute(f"DELETE FROM {fact_digest.TABLE}")


def test_inside_a_callers_transaction_one_connection_does_it(small_bank, indicators, tmp_path):
    from django.db import transaction

    with transaction.atomic():
        import_daily_file(write(tmp_path, "daily.csv", CLEAN_CSV))
        assert tables_of_the_day() == {DAY_TABLE: "branches_fact"}


@pytest.fixture
def general_pipeline_runs(monkeypatch):
    calls = []
    original = facts.validate_stage
    monkeypatch.setattr(facts, "validate_stage", lambda *a, **k: calls.append(1) or original(*a, **k))
    return calls


def tables_of_the_day() -> dict[str, str | None]:
    """Every table named after the day, with the table it is a partition of."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, p.relname FROM pg_class c LEFT JOIN pg_inherits i ON i.inhrelid = c.oid"
            " LEFT JOIN pg_class p ON p.oid = i.inhparent WHERE c.relname LIKE %s AND c.relkind IN ('r', 'p')",
            [DAY_TABLE + "%"],
        )
        return dict(cursor.fetchall())


def test_a_clean_file_fills_two_halves_of_the_day_by_indicator(small_bank, indicators, tmp_path, general_pipeline_runs):
    outcome = import_daily_file(write(tmp_path, "daily.csv", CLEAN_CSV))
    assert (outcome.rows, outcome.new, outcome.changed, outcome.error_count) == (4, 4, 0, 0)
    assert general_pipeline_runs == []
    assert tables_of_the_day() == {
        DAY_TABLE: "branches_fact",
        f"{DAY_TABLE}_a": DAY_TABLE,
        f"{DAY_TABLE}_b": DAY_TABLE,
        f"{DAY_TABLE}_other": DAY_TABLE,
    }
    rows = {(f.indicator.code, f.subject_id): (f.value, f.source_row, f.batch_id, f.version_no) for f in Fact.objects.all()}
    assert rows == {
        ("DEP", small_bank["s1"].pk): (Decimal("1200000.5"), 2, outcome.batch_id, 1),
        ("DEP", small_bank["s2"].pk): (Decimal("300000"), 3, outcome.batch_id, 1),
        ("POS", small_bank["s2"].pk): (Decimal("3"), 4, outcome.batch_id, 1),
        ("COLL", small_bank["s3"].pk): (Decimal("0.97"), 5, outcome.batch_id, 1),
    }
    # Both halves drew their ids from one block; the sequence moved past it.
    ids = sorted(Fact.objects.values_list("pk", flat=True))
    assert ids == list(range(ids[0], ids[0] + 4))
    later = Fact.objects.create(
        indicator=indicators["deposits"], subject_kind=SubjectKind.UNIT, subject_id=small_bank["b1"].pk,
        business_date=DAY, value=Decimal("1"),
    )
    assert later.pk > ids[-1]
    assert sorted(outcome.changed_pairs) == sorted((i.pk, DAY) for i in indicators.values())


@pytest.mark.parametrize("bad_indicator", ["DEP", "POS", "XYZ"])
def test_a_bad_row_in_either_half_is_named_and_leaves_no_table(small_bank, indicators, tmp_path, bad_indicator):
    bad = CLEAN_CSV + f"2027-01-04,E999,{bad_indicator},1\n"
    outcome = import_daily_file(write(tmp_path, "bad.csv", bad))
    assert outcome.error_count == 1 and outcome.errors[0].row_no == 6
    assert Fact.objects.count() == 0
    assert tables_of_the_day() == {}


def test_a_key_twice_with_different_values_is_an_error_on_both_rows(small_bank, indicators, tmp_path):
    twice = CLEAN_CSV + "2027-01-04,E002,POS,4\n"
    outcome = import_daily_file(write(tmp_path, "twice.csv", twice))
    assert sorted(e.row_no for e in outcome.errors) == [4, 6]
    assert tables_of_the_day() == {}


def test_a_table_left_by_a_killed_import_is_dropped(small_bank, indicators, tmp_path):
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {DAY_TABLE}_b (LIKE branches_fact)")
        cursor.execute(f"INSERT INTO {DAY_TABLE}_b SELECT * FROM branches_fact_default")
    outcome = import_daily_file(write(tmp_path, "daily.csv", CLEAN_CSV))
    assert outcome.new == 4 and Fact.objects.count() == 4


def test_the_split_day_is_compared_known_and_corrected_like_any_day(small_bank, indicators, tmp_path):
    path = write(tmp_path, "daily.csv", CLEAN_CSV)
    import_daily_file(path)
    assert import_daily_file(path).unchanged == 4  # known by its digest
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {fact_digest.TABLE}")
    assert import_daily_file(path).unchanged == 4  # compared with the day's facts
    fixed = import_daily_file(write(tmp_path, "fix.csv", CLEAN_CSV.replace("E002,POS,3", "E002,POS,4")))
    assert (fixed.changed, fixed.unchanged) == (1, 3)
    assert FactVersion.objects.get().value == Decimal("3")
    # The halves were compared, then the whole file read into one table: rows keep their numbers.
    assert Fact.objects.get(indicator=indicators["pos"]).source_row == 4


def test_a_bad_row_in_a_file_for_a_day_with_facts_is_named_by_its_row(small_bank, indicators, tmp_path):
    import_daily_file(write(tmp_path, "daily.csv", CLEAN_CSV))
    for bad, row in (("E002,POS,3", "E002,POS,-3"), ("E003,COLL,0.97", "E003,COLL,1.5")):
        outcome = import_daily_file(write(tmp_path, "bad.csv", CLEAN_CSV.replace(bad, row)))
        assert outcome.error_count == 1 and outcome.errors[0].row_no == (4 if "POS" in bad else 5)
    assert FactVersion.objects.count() == 0


def test_halves_compared_equal_write_nothing_and_keep_the_digest(small_bank, indicators, tmp_path, monkeypatch):
    path = write(tmp_path, "daily.csv", CLEAN_CSV)
    import_daily_file(path)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {fact_digest.TABLE}")
    counted = []
    from branches import bulk_fast

    original = bulk_fast.count_equal
    monkeypatch.setattr(bulk_fast, "count_equal", lambda *a, **k: counted.append(a[3] if len(a) > 3 else None) or original(*a, **k))
    again = import_daily_file(path)
    assert (again.unchanged, again.new, again.changed) == (4, 0, 0)
    assert sorted(counted) == sorted([[indicators["deposits"].pk, indicators["collection"].pk], [indicators["pos"].pk]])
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT row_count FROM {fact_digest.TABLE}")
        assert cursor.fetchall() == [(4,)]


def test_a_write_naming_one_half_forgets_the_days_digest(small_bank, indicators, tmp_path):
    import_daily_file(write(tmp_path, "daily.csv", CLEAN_CSV))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {fact_digest.TABLE}")
        assert cursor.fetchone()[0] == 1
        for leaf in ("a", "b", "other"):
            cursor.execute(f"UPDATE {DAY_TABLE}_{leaf} SET value = value WHERE false")
            cursor.execute(f"SELECT COUNT(*) FROM {fact_digest.TABLE}")
            assert cursor.fetchone()[0] == 0
            cursor.execute(
                f"INSERT INTO {fact_digest.TABLE} (business_date, partition, file_size, digest, row_count)"
                " VALUES (%s, 0, 0, '', 0)",
                [DAY],
            )


def test_a_figure_of_an_indicator_made_later_lands_in_the_days_default(small_bank, indicators, tmp_path):
    import_daily_file(write(tmp_path, "daily.csv", CLEAN_CSV))
    late = Indicator.objects.create(code="LATE", name="后加指标")
    outcome = merge_facts(
        rows=[(late.pk, SubjectKind.STAFF, small_bank["s1"].pk, DAY, Decimal("7"), 1)],
        source=FactSource(kind=ImportBatch.Kind.MANUAL, reference="late"),
    )
    assert outcome.new == 1
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {DAY_TABLE}_other")
        assert cursor.fetchone()[0] == 1


def test_a_file_below_the_size_takes_one_connection(small_bank, indicators, tmp_path, monkeypatch):
    monkeypatch.setattr(bulk_parallel, "MIN_BYTES", 1 << 20)
    import_daily_file(write(tmp_path, "daily.csv", CLEAN_CSV))
    assert tables_of_the_day() == {DAY_TABLE: "branches_fact"}


@pytest.mark.parametrize(
    ("text", "encoding", "business_date"),
    [
        ("业务日期,机构号,工号,指标,数值\n20270104,B1,,存款余额,5000000\n20270104,,E002,POS,2\n", "gb18030", None),
        ("\ufeffemployee_no,indicator,value\r\nE001,DEP,1\r\nE002,POS,2\r\n", "utf-8", DAY),
    ],
    ids=["gb18030 units and staff", "bom, crlf, no date column"],
)
def test_the_files_forms_the_fast_lane_takes_are_split_too(small_bank, indicators, tmp_path, text, encoding, business_date):
    path = tmp_path / "daily.csv"
    path.write_bytes(text.encode(encoding))
    outcome = import_daily_file(path, business_date=business_date)
    assert (outcome.new, outcome.error_count) == (2, 0)
    assert f"{DAY_TABLE}_a" in tables_of_the_day()
    assert sorted(Fact.objects.values_list("source_row", flat=True)) == [2, 3]


@pytest.mark.parametrize("indicator", ["DEP", "POS"])
def test_a_value_the_cast_refuses_in_either_half_is_named(small_bank, indicators, tmp_path, indicator):
    outcome = import_daily_file(write(tmp_path, "bad.csv", CLEAN_CSV + f"2027-01-04,E004,{indicator},1.2.3\n"))
    assert outcome.error_count == 1 and outcome.errors[0].row_no == 6 and "not a number" in outcome.errors[0].message
    assert tables_of_the_day() == {}


def test_when_the_second_connection_fails_one_connection_imports_the_file(small_bank, indicators, tmp_path, monkeypatch):
    def broken(self):
        raise RuntimeError("the second connection broke")

    monkeypatch.setattr(bulk_parallel._Other, "_run", broken)
    outcome = import_daily_file(write(tmp_path, "daily.csv", CLEAN_CSV))
    assert (outcome.new, outcome.error_count) == (4, 0)
    assert tables_of_the_day() == {DAY_TABLE: "branches_fact"}
