"""PostgreSQL: a re-import of the very file that last filled a day is known by its digest, and only
while nothing that could change its reading was written since (branches.fact_digest)."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import connection

from branches import bulk_fast, fact_digest, fact_partitions
from branches.bulk_import import import_daily_file
from branches.facts import FactSource, merge_facts
from branches.models import Fact, FactVersion, ImportBatch, Indicator, Staff, SubjectKind, Unit
from tests.facts.conftest import DAY
from tests.facts.test_day_partitions import CLEAN_CSV, write

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="digests are kept on PostgreSQL only")


@pytest.fixture
def comparisons(monkeypatch):
    """Counts the joins of a file's rows with its day's facts (what a known file skips)."""
    calls = []
    original = bulk_fast._compare_with_day

    def counting(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(bulk_fast, "_compare_with_day", counting)
    return calls


@pytest.fixture
def daily_file(small_bank, indicators, tmp_path):
    path = write(tmp_path, "daily.csv", CLEAN_CSV)
    first = import_daily_file(path)
    assert first.new == 4
    return path


def digests() -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT business_date, row_count FROM {fact_digest.TABLE}")
        return cursor.fetchall()


def test_the_same_file_again_is_known_without_reading_its_rows(daily_file, comparisons):
    again = import_daily_file(daily_file)
    assert (again.rows, again.new, again.changed, again.unchanged, again.error_count) == (4, 0, 0, 4, 0)
    assert comparisons == []
    assert "nothing to write" in again.summary()
    assert FactVersion.objects.count() == 0
    assert ImportBatch.objects.get(pk=again.batch_id).unchanged_count == 4


def test_a_figure_corrected_through_the_merge_makes_the_file_count_again(daily_file, small_bank, indicators, comparisons):
    merge_facts(
        rows=[(indicators["pos"].pk, SubjectKind.STAFF, small_bank["s2"].pk, DAY, Decimal("5"), 1)],
        source=FactSource(kind=ImportBatch.Kind.API, reference="fix-1"),
    )
    assert digests() == []
    again = import_daily_file(daily_file)
    # The file says 3 again: the correction is superseded, with its version kept.
    assert (again.new, again.changed, again.unchanged) == (0, 1, 3)
    assert Fact.objects.get(indicator=indicators["pos"]).value == Decimal("3")
    assert list(FactVersion.objects.values_list("value", flat=True)) == [Decimal("3"), Decimal("5")]


def test_a_write_naming_the_days_partition_forgets_only_that_days_digest(daily_file, tmp_path, comparisons):
    other_day = write(tmp_path, "next.csv", CLEAN_CSV.replace("2027-01-04", "2027-01-05"))
    import_daily_file(other_day)
    assert len(digests()) == 2
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {fact_partitions.partition_name(DAY)} SET value = value + 1 WHERE source_row = 2")
    assert digests() == [(datetime.date(2027, 1, 5), 4)]
    again = import_daily_file(daily_file)
    assert (again.changed, again.unchanged, comparisons) == (1, 3, [1])


def test_a_deleted_fact_is_written_again(daily_file, comparisons):
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {fact_partitions.partition_name(DAY)} WHERE source_row = 5")
    again = import_daily_file(daily_file)
    assert (again.new, again.unchanged, again.error_count) == (1, 3, 0)
    assert Fact.objects.count() == 4


def test_a_changed_employee_number_makes_the_same_file_an_error(daily_file, small_bank):
    Staff.objects.filter(pk=small_bank["s1"].pk).update(employee_no="E101")
    again = import_daily_file(daily_file)
    assert again.error_count == 1 and "no staff member" in again.errors[0].message


def test_a_renamed_unit_code_forgets_the_digests(daily_file, small_bank):
    Unit.objects.filter(pk=small_bank["b1"].pk).update(code="B9")
    assert digests() == []


def test_a_new_indicator_named_like_a_code_in_the_file_forgets_the_digests(daily_file):
    Indicator.objects.create(code="NEW", name="New one")
    assert digests() == []


def test_a_new_staff_member_keeps_the_digest(daily_file, small_bank, comparisons):
    from branches import services

    services.hire_staff(employee_no="E005", name="赵强", unit=small_bank["b1"], on=DAY)
    import_daily_file(daily_file)
    assert comparisons == []


def test_a_remade_day_is_not_vouched_for_by_the_old_digest(daily_file, comparisons):
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {fact_partitions.partition_name(DAY)}")
    again = import_daily_file(daily_file)
    assert (again.new, again.unchanged, comparisons) == (4, 0, [])
    assert Fact.objects.count() == 4


def test_the_same_bytes_with_another_date_option_are_read_again(small_bank, indicators, tmp_path, comparisons):
    text = "employee_no,indicator,value\nE001,DEP,1\nE002,POS,2\n"
    path = write(tmp_path, "undated.csv", text)
    import_daily_file(path, business_date=DAY)
    other = import_daily_file(path, business_date=DAY + datetime.timedelta(days=1))
    assert (other.new, other.unchanged) == (2, 0)
    assert import_daily_file(path, business_date=DAY).unchanged == 2
    assert comparisons == []


def test_an_unchanged_file_found_by_comparing_is_known_the_next_time(daily_file, tmp_path, comparisons):
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {fact_digest.TABLE}")
    assert import_daily_file(daily_file).unchanged == 4 and comparisons == [1]
    assert import_daily_file(daily_file).unchanged == 4 and comparisons == [1]


def test_a_rejected_file_leaves_no_digest(small_bank, indicators, tmp_path):
    outcome = import_daily_file(write(tmp_path, "bad.csv", CLEAN_CSV + "2027-01-04,E999,DEP,1\n"))
    assert outcome.error_count == 1
    assert digests() == []


def test_a_preview_of_a_known_file_still_counts_its_rows(daily_file, comparisons):
    preview = import_daily_file(daily_file, preview=True)
    assert (preview.new, preview.changed, preview.unchanged, preview.status) == (0, 0, 4, ImportBatch.Status.PREVIEW)
