"""PostgreSQL: facts live in one partition per day; a clean daily file takes the fast lane.

The fast lane (branches.bulk_fast) decides only "all new" and "all unchanged"; every other file
goes through the general pipeline. These tests check that both lanes keep the same guarantees:
history, all or nothing, errors named, re-import writes nothing, recomputes listed.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import connection

from branches import bulk_import, fact_partitions, facts
from branches.bulk_import import import_daily_file
from branches.facts import FactSource, merge_facts
from branches.models import Fact, FactVersion, ImportBatch, SubjectKind
from tests.facts.conftest import DAY

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="facts are partitioned on PostgreSQL only")

CLEAN_CSV = (
    "business_date,employee_no,indicator,value\n"
    "2027-01-04,E001,DEP,1200000.50\n"
    "2027-01-04,E002,DEP,300000\n"
    "2027-01-04,E002,POS,3\n"
    "2027-01-04,E003,COLL,0.97\n"
)


@pytest.fixture
def general_pipeline_runs(monkeypatch):
    """Counts the runs of the general pipeline's validation (the fast lane skips it)."""
    calls = []
    original = facts.validate_stage

    def counting(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(facts, "validate_stage", counting)
    return calls


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def partitions_of_facts() -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, (SELECT COUNT(*) FROM branches_fact f WHERE f.tableoid = c.oid)"
            " FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'branches_fact'::regclass"
        )
        return dict(cursor.fetchall())


def test_a_new_days_clean_file_fills_its_own_partition_without_the_general_pipeline(
    small_bank, indicators, tmp_path, general_pipeline_runs
):
    outcome = import_daily_file(write(tmp_path, "daily.csv", CLEAN_CSV))
    assert (outcome.rows, outcome.new, outcome.changed, outcome.error_count) == (4, 4, 0, 0)
    assert general_pipeline_runs == []
    assert partitions_of_facts() == {"branches_fact_default": 0, "branches_fact_p20270104": 4}
    fact = Fact.objects.get(subject_kind=SubjectKind.STAFF, subject_id=small_bank["s1"].pk)
    assert (fact.value, fact.version_no, fact.previous_value, fact.batch_id, fact.source_row) == (
        Decimal("1200000.5"), 1, None, outcome.batch_id, 2,
    )
    # Ids were taken from the sequence in one block: a later write draws past them.
    later = Fact.objects.create(
        indicator=indicators["deposits"], subject_kind=SubjectKind.UNIT, subject_id=small_bank["b1"].pk,
        business_date=DAY, value=Decimal("1"),
    )
    assert len({f.pk for f in Fact.objects.all()}) == 5 and later.pk > max(
        f.pk for f in Fact.objects.exclude(pk=later.pk)
    )
    assert sorted(outcome.changed_pairs) == sorted(
        (indicators[name].pk, DAY) for name in ("deposits", "pos", "collection")
    )
    assert ImportBatch.objects.get(pk=outcome.batch_id).new_count == 4
    assert sorted(Fact.objects.filter(batch_id=outcome.batch_id).values_list("source_row", flat=True)) == [2, 3, 4, 5]


def test_reimporting_a_clean_file_compares_in_one_statement_and_writes_nothing(
    small_bank, indicators, tmp_path, general_pipeline_runs
):
    path = write(tmp_path, "daily.csv", CLEAN_CSV)
    first = import_daily_file(path)
    # The same bytes would be known by their digest (tests/facts/test_file_digest.py): compare.
    path.write_text(CLEAN_CSV.replace("\n", "\r\n"), encoding="utf-8")
    again = import_daily_file(path)
    assert (again.new, again.changed, again.unchanged, again.changed_pairs) == (0, 0, 4, [])
    assert general_pipeline_runs == []
    assert set(Fact.objects.values_list("batch_id", flat=True)) == {first.batch_id}
    assert FactVersion.objects.count() == 0
    assert "nothing to write" in again.summary()


def test_a_changed_figure_leaves_the_fast_lane_and_keeps_the_old_version(
    small_bank, indicators, tmp_path, general_pipeline_runs
):
    import_daily_file(write(tmp_path, "daily.csv", CLEAN_CSV))
    outcome = import_daily_file(write(tmp_path, "fix.csv", CLEAN_CSV.replace("E002,POS,3", "E002,POS,4")))
    assert (outcome.new, outcome.changed, outcome.unchanged) == (0, 1, 3)
    assert general_pipeline_runs == [1]
    version = FactVersion.objects.get()
    assert (version.value, version.superseded_by_id) == (Decimal("3"), outcome.batch_id)
    assert outcome.changed_pairs == [(indicators["pos"].pk, DAY)]


@pytest.mark.parametrize(
    ("bad_row", "expected"),
    [
        ("2027-01-04,E004,POS,1e5", "is not a number"),
        ("2027-01-04,E004,POS,1.2.3", "is not a number"),
        ("2027-01-04,E004,POS,-2", "cannot be negative"),
        ("2027-01-04,E004,COLL,1.5", "between 0 and 1"),
        ("2027-01-04,E999,DEP,1", "no staff member"),
        ("2027-01-04,E004,XYZ,1", "no indicator"),
        ("2027-01-05,E004,POS,1", "not the date of this file"),
    ],
)
def test_a_bad_row_in_a_new_days_file_is_named_and_no_partition_is_left(
    small_bank, indicators, tmp_path, bad_row, expected
):
    outcome = import_daily_file(write(tmp_path, "bad.csv", CLEAN_CSV + bad_row + "\n"), business_date=DAY)
    assert outcome.error_count == 1
    assert outcome.errors[0].row_no == 6 and expected in outcome.errors[0].message
    assert Fact.objects.count() == 0
    assert partitions_of_facts() == {"branches_fact_default": 0}


def test_a_key_twice_in_a_new_days_file_with_different_values_is_an_error(small_bank, indicators, tmp_path):
    outcome = import_daily_file(write(tmp_path, "dup.csv", CLEAN_CSV + "2027-01-04,E002,POS,5\n"))
    assert outcome.error_count == 2
    assert {error.row_no for error in outcome.errors} == {4, 6}
    assert Fact.objects.count() == 0


def test_a_key_twice_with_the_same_value_is_written_once(small_bank, indicators, tmp_path):
    outcome = import_daily_file(write(tmp_path, "dup.csv", CLEAN_CSV + "2027-01-04,E002,POS,3\n"))
    assert (outcome.rows, outcome.new, outcome.unchanged, outcome.error_count) == (5, 4, 1, 0)
    assert Fact.objects.count() == 4


def test_padded_cells_and_separators_take_the_general_pipeline_with_the_same_result(
    small_bank, indicators, tmp_path, general_pipeline_runs
):
    text = CLEAN_CSV.replace("1200000.50", '" 1,200,000.50 "').replace(",E003,", ", E003 ,")
    outcome = import_daily_file(write(tmp_path, "padded.csv", text))
    assert (outcome.new, outcome.error_count) == (4, 0)
    assert general_pipeline_runs == [1]
    assert Fact.objects.get(subject_id=small_bank["s1"].pk).value == Decimal("1200000.5")
    assert "branches_fact_p20270104" in partitions_of_facts()


def test_merge_facts_gives_each_new_day_its_partition_and_never_fills_the_default(small_bank, indicators):
    rows = [
        (indicators["deposits"].pk, SubjectKind.UNIT, small_bank["b1"].pk, DAY, Decimal("10"), 1),
        (indicators["deposits"].pk, SubjectKind.UNIT, small_bank["b1"].pk, DAY + datetime.timedelta(days=1), Decimal("11"), 2),
    ]
    outcome = merge_facts(rows=rows, source=FactSource(kind=ImportBatch.Kind.API, reference="batch-1"))
    assert outcome.new == 2
    assert partitions_of_facts() == {
        "branches_fact_default": 0, "branches_fact_p20270104": 1, "branches_fact_p20270105": 1,
    }


def test_facts_written_around_the_merge_move_into_the_days_partition(small_bank, indicators, tmp_path):
    # The ORM (fixtures, the bench generator) writes through the parent: such rows land in the default.
    Fact.objects.create(
        indicator=indicators["deposits"], subject_kind=SubjectKind.UNIT, subject_id=small_bank["b1"].pk,
        business_date=DAY, value=Decimal("7"),
    )
    assert partitions_of_facts() == {"branches_fact_default": 1}
    outcome = import_daily_file(write(tmp_path, "daily.csv", CLEAN_CSV))
    assert outcome.new == 4
    assert partitions_of_facts() == {"branches_fact_default": 0, "branches_fact_p20270104": 5}


def test_a_new_days_file_repeating_a_fact_in_the_default_goes_the_general_way(small_bank, indicators, tmp_path):
    Fact.objects.create(
        indicator=indicators["pos"], subject_kind=SubjectKind.STAFF, subject_id=small_bank["s2"].pk,
        business_date=DAY, value=Decimal("2"),
    )
    outcome = import_daily_file(write(tmp_path, "daily.csv", CLEAN_CSV))
    assert (outcome.new, outcome.changed) == (3, 1)
    assert FactVersion.objects.get().value == Decimal("2")
    assert partitions_of_facts() == {"branches_fact_default": 0, "branches_fact_p20270104": 4}


def test_split_default_moves_every_day_to_its_own_partition(small_bank, indicators):
    for offset in range(3):
        Fact.objects.create(
            indicator=indicators["deposits"], subject_kind=SubjectKind.UNIT, subject_id=small_bank["b1"].pk,
            business_date=DAY + datetime.timedelta(days=offset), value=Decimal(offset),
        )
    with connection.cursor() as cursor:
        assert fact_partitions.split_default(cursor) == 3
    assert partitions_of_facts() == {
        "branches_fact_default": 0, "branches_fact_p20270104": 1, "branches_fact_p20270105": 1,
        "branches_fact_p20270106": 1,
    }
    assert sorted(Fact.objects.values_list("value", flat=True)) == [0, 1, 2]


@pytest.mark.parametrize("padding", ["", " "])
def test_leading_zeros_do_not_count_as_digits_in_either_lane(small_bank, indicators, tmp_path, padding):
    # 17 characters before the point, one significant digit: numeric(20,4) holds it, and so does
    # the general pipeline's pattern (a padded cell sends the file there).
    text = CLEAN_CSV.replace("E002,POS,3", f"E002,POS,{padding}00000000000000003{padding}")
    outcome = import_daily_file(write(tmp_path, "zeros.csv", text))
    assert (outcome.new, outcome.error_count) == (4, 0)
    assert Fact.objects.get(indicator=indicators["pos"]).value == 3


def test_a_clean_file_of_units_and_staff_with_chinese_headers_takes_the_fast_lane(
    small_bank, indicators, tmp_path, general_pipeline_runs
):
    text = "业务日期,机构号,工号,指标,数值\n20270104,B1,,存款余额,5000000\n20270104,,E002,POS,2\n"
    path = tmp_path / "机构日报.csv"
    path.write_bytes(text.encode("gb18030"))
    outcome = import_daily_file(path)
    assert (outcome.new, outcome.error_count, general_pipeline_runs) == (2, 0, [])
    assert Fact.objects.get(subject_kind=SubjectKind.UNIT, subject_id=small_bank["b1"].pk).value == 5000000
    assert Fact.objects.get(subject_kind=SubjectKind.STAFF, subject_id=small_bank["s2"].pk).value == 2


def test_a_row_naming_both_a_unit_and_a_staff_member_is_still_refused(small_bank, indicators, tmp_path):
    text = "business_date,unit_code,employee_no,indicator,value\n2027-01-04,B1,E002,DEP,5\n2027-01-04,B1,,DEP,6\n"
    outcome = import_daily_file(write(tmp_path, "both.csv", text))
    assert outcome.error_count == 1 and "not both" in outcome.errors[0].message
    assert Fact.objects.count() == 0


def test_a_file_with_a_header_and_no_rows_writes_nothing(small_bank, indicators, tmp_path):
    outcome = import_daily_file(write(tmp_path, "empty.csv", "business_date,employee_no,indicator,value\n"))
    assert (outcome.rows, outcome.new, outcome.error_count) == (0, 0, 0)
    assert partitions_of_facts() == {"branches_fact_default": 0}


def test_a_clean_correction_file_is_staged_by_the_fast_lane_for_the_general_merge(
    small_bank, indicators, tmp_path, monkeypatch
):
    import_daily_file(write(tmp_path, "daily.csv", CLEAN_CSV))
    resolved_again = []
    original = bulk_import.DailyFileLoader._resolve
    monkeypatch.setattr(
        bulk_import.DailyFileLoader, "_resolve", lambda self, *a, **k: resolved_again.append(1) or original(self, *a, **k)
    )
    fixed = CLEAN_CSV.replace("E002,POS,3", "E002,POS,4") + "2027-01-04,E004,POS,1\n"
    outcome = import_daily_file(write(tmp_path, "fix.csv", fixed))
    assert (outcome.new, outcome.changed, outcome.unchanged, resolved_again) == (1, 1, 3, [])
    assert FactVersion.objects.get().value == Decimal("3")
    assert Fact.objects.get(subject_id=small_bank["s4"].pk).source_row == 6
