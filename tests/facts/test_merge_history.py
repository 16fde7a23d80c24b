"""merge_facts: new, changed and unchanged figures, every version kept, all or nothing."""

from __future__ import annotations

import datetime
from decimal import Decimal

from branches.fact_selectors import fact_history
from branches.facts import FactSource, merge_facts
from branches.models import Fact, FactVersion, ImportBatch, SubjectKind
from tests.facts.conftest import DAY

UNIT, STAFF = SubjectKind.UNIT, SubjectKind.STAFF


def api(reference="batch-1", user=None):
    return FactSource(kind=ImportBatch.Kind.API, reference=reference, user=user, actor="" if user else "token:core")


def test_first_merge_inserts_every_figure_as_version_one(small_bank, indicators):
    dep = indicators["deposits"].pk
    outcome = merge_facts(
        rows=[
            (dep, UNIT, small_bank["b1"].pk, DAY, Decimal("1200000.50"), 1),
            (dep, STAFF, small_bank["s2"].pk, DAY, Decimal("300000"), 2),
        ],
        source=api(),
    )
    assert (outcome.new, outcome.changed, outcome.unchanged, outcome.error_count) == (2, 0, 0, 0)
    fact = Fact.objects.get(subject_kind=UNIT, subject_id=small_bank["b1"].pk)
    assert fact.value == Decimal("1200000.5000")
    assert (fact.version_no, fact.previous_value, fact.batch_id, fact.source_row) == (1, None, outcome.batch_id, 1)
    assert FactVersion.objects.count() == 0
    assert ImportBatch.objects.get(pk=outcome.batch_id).status == ImportBatch.Status.MERGED


def test_merging_the_same_rows_again_changes_nothing_and_says_so(small_bank, indicators):
    rows = [(indicators["deposits"].pk, UNIT, small_bank["b1"].pk, DAY, Decimal("100"), 1)]
    merge_facts(rows=rows, source=api("first"))
    again = merge_facts(rows=rows, source=api("second"))
    assert (again.new, again.changed, again.unchanged) == (0, 0, 1)
    assert again.wrote_nothing
    assert "unchanged" in again.summary()
    assert Fact.objects.get().batch_id != again.batch_id
    assert FactVersion.objects.count() == 0


def test_a_correction_keeps_the_old_version_with_its_source(small_bank, indicators, django_user_model):
    clerk = django_user_model.objects.create_user(username="data_team")
    key = (indicators["deposits"].pk, UNIT, small_bank["b1"].pk, DAY)
    first = merge_facts(rows=[(*key, Decimal("100"), 7)], source=api("first"))
    second = merge_facts(
        rows=[(*key, Decimal("150"), 3)], source=FactSource(kind=ImportBatch.Kind.FILE, reference="daily.csv", user=clerk)
    )
    assert (second.new, second.changed, second.unchanged) == (0, 1, 0)
    assert second.changed_pairs == [(indicators["deposits"].pk, DAY)]
    fact = Fact.objects.get()
    assert (fact.value, fact.previous_value, fact.version_no, fact.batch_id, fact.source_row) == (
        Decimal("150"), Decimal("100"), 2, second.batch_id, 3,
    )
    old = FactVersion.objects.get()
    assert (old.value, old.version_no, old.batch_id, old.source_row, old.superseded_by_id) == (
        Decimal("100"), 1, first.batch_id, 7, second.batch_id,
    )
    history = fact_history(UNIT, small_bank["b1"].pk, indicators["deposits"].pk)
    assert [(h.value, h.is_current, h.source_reference, h.actor) for h in history] == [
        (Decimal("150"), True, "daily.csv", "data_team"),
        (Decimal("100"), False, "first", "token:core"),
    ]
    assert history[0].previous_value == Decimal("100")


def test_history_filters_by_date_range(small_bank, indicators):
    dep = indicators["deposits"].pk
    rows = [(dep, UNIT, small_bank["b2"].pk, DAY + datetime.timedelta(days=n), Decimal(n), n + 1) for n in range(5)]
    merge_facts(rows=rows, source=api())
    history = fact_history(UNIT, small_bank["b2"].pk, dep, date_from=DAY + datetime.timedelta(days=1), date_to=DAY + datetime.timedelta(days=2))
    assert [h.business_date for h in history] == [DAY + datetime.timedelta(days=2), DAY + datetime.timedelta(days=1)]


def test_one_bad_row_writes_nothing(small_bank, indicators):
    dep = indicators["deposits"].pk
    outcome = merge_facts(
        rows=[
            (dep, UNIT, small_bank["b1"].pk, DAY, Decimal("1"), 1),
            (dep, UNIT, 999_999, DAY, Decimal("2"), 2),
        ],
        source=api(),
    )
    assert outcome.error_count == 1
    assert outcome.errors[0].row_no == 2
    assert "999999" in outcome.errors[0].message
    assert Fact.objects.count() == 0
    assert ImportBatch.objects.get(pk=outcome.batch_id).status == ImportBatch.Status.REJECTED


def test_preview_reports_every_rows_fate_without_writing(small_bank, indicators):
    dep = indicators["deposits"].pk
    merge_facts(
        rows=[(dep, UNIT, small_bank["b1"].pk, DAY, Decimal("10"), 1), (dep, UNIT, small_bank["b2"].pk, DAY, Decimal("20"), 2)],
        source=api(),
    )
    outcome = merge_facts(
        rows=[
            (dep, UNIT, small_bank["b1"].pk, DAY, Decimal("10"), 1),
            (dep, UNIT, small_bank["b2"].pk, DAY, Decimal("25"), 2),
            (dep, UNIT, small_bank["b3"].pk, DAY, Decimal("30"), 3),
            (dep, UNIT, small_bank["b3"].pk, DAY, "abc", 4),
        ],
        source=api("preview"),
        preview=True,
    )
    assert [(f.row_no, f.fate, f.old_value, f.new_value) for f in outcome.fates] == [
        (1, "unchanged", Decimal("10"), Decimal("10")),
        (2, "changed", Decimal("20"), Decimal("25")),
        (3, "new", None, Decimal("30")),
        (4, "error", None, None),
    ]
    assert (outcome.new, outcome.changed, outcome.unchanged, outcome.error_count) == (1, 1, 1, 1)
    assert Fact.objects.get(subject_id=small_bank["b2"].pk).value == Decimal("20")
    assert Fact.objects.count() == 2
    assert ImportBatch.objects.get(pk=outcome.batch_id).status == ImportBatch.Status.PREVIEW


def test_recompute_is_queued_for_affected_campaign_days_after_commit(
    small_bank, indicators, django_capture_on_commit_callbacks
):
    from django.utils import timezone

    from campaigns.models import Campaign, CampaignStatus, Metric, MetricComponent

    today = timezone.localdate()
    day = today - datetime.timedelta(days=2)
    campaign = Campaign.objects.create(
        code="NOW", name="进行中", start_date=today - datetime.timedelta(days=10), end_date=today + datetime.timedelta(days=10),
        status=CampaignStatus.ACTIVE,
    )
    metric = Metric.objects.create(campaign=campaign, code="dep", name="存款")
    MetricComponent.objects.create(metric=metric, indicator=indicators["deposits"])
    row = (indicators["deposits"].pk, UNIT, small_bank["b1"].pk, day, Decimal("1"), 1)
    with django_capture_on_commit_callbacks() as callbacks:
        outcome = merge_facts(rows=[row], source=api())
    assert outcome.changed_pairs == [(indicators["deposits"].pk, day)]
    assert len(callbacks) == 3  # the changed day, yesterday and today
    with django_capture_on_commit_callbacks() as callbacks:
        merge_facts(rows=[row], source=api("again"))
    assert callbacks == []
