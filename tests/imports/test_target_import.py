"""Targets from a file: per campaign participant and metric, in yuan, with bases and periods."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from branches.imports.kinds import ImportAborted, apply_file, preview_file
from branches.models import SubjectKind
from campaigns.models import Metric, Participant, Phase, Target
from tests.imports.conftest import csv_bytes, write


@pytest.fixture
def campaign(small_bank, quarter_campaign):
    Metric.objects.create(campaign=quarter_campaign, code="dep", name="存款")
    Metric.objects.create(campaign=quarter_campaign, code="pos", name="POS", measure="count")
    Phase.objects.create(campaign=quarter_campaign, code="P1", name="开门", start_date=datetime.date(2027, 1, 1), end_date=datetime.date(2027, 1, 31))
    for code in ("b1", "b2"):
        unit = small_bank[code]
        Participant.objects.create(campaign=quarter_campaign, subject_kind=SubjectKind.UNIT, subject_id=unit.pk, unit=unit)
    return quarter_campaign


def run(campaign, tmp_path, rows, apply=False):
    path = write(tmp_path, "t.csv", csv_bytes(rows))
    options = {"campaign_id": campaign.pk}
    if apply:
        return apply_file("targets", path, filename="t.csv", options=options)
    return preview_file("targets", path, filename="t.csv", options=options)


def test_targets_in_wan_yuan_with_bases_are_written_in_yuan(campaign, tmp_path):
    rows = [["机构号", "存款(万元)", "存款基数(万元)", "POS"], ["B1", "1000", "5000", "12"], ["B2", "800", "", "10"]]
    result = run(campaign, tmp_path, rows, apply=True)
    assert result.new == 4
    b1 = Target.objects.get(participant__unit__code="B1", metric__code="dep")
    assert (b1.target_value, b1.base_value, b1.period_start) == (Decimal("10000000"), Decimal("50000000"), campaign.start_date)
    assert run(campaign, tmp_path, rows).changes_nothing


def test_changed_target_shows_old_and_new(campaign, tmp_path):
    run(campaign, tmp_path, [["机构号", "dep"], ["B1", "100"]], apply=True)
    preview = run(campaign, tmp_path, [["机构号", "dep"], ["B1", "120"]])
    assert [(f.fate, f.old, f.new) for f in preview.fates] == [("changed", "100", "120")]


def test_phase_and_month_targets(campaign, tmp_path):
    rows = [["机构号", "期间", "dep"], ["B1", "P1", "30"], ["B1", "2027-02", "40"], ["B1", "", "100"]]
    run(campaign, tmp_path, rows, apply=True)
    periods = set(Target.objects.values_list("period", "period_start", "target_value"))
    assert periods == {
        ("phase", datetime.date(2027, 1, 1), Decimal("30")),
        ("month", datetime.date(2027, 2, 1), Decimal("40")),
        ("campaign", datetime.date(2027, 1, 1), Decimal("100")),
    }


def test_bad_target_rows_are_named_and_nothing_is_written(campaign, tmp_path):
    rows = [["机构号", "期间", "dep"], ["B1", "", "100"], ["B3", "", "1"], ["B2", "2026-05", "1"], ["B2", "", "-5"], ["B1", "", "99"]]
    preview = run(campaign, tmp_path, rows)
    assert [(e.row_no, e.column) for e in preview.errors] == [(3, "机构号"), (4, "期间"), (5, "dep"), (6, "dep")]
    with pytest.raises(ImportAborted):
        run(campaign, tmp_path, rows, apply=True)
    assert not Target.objects.exists()


def test_target_file_without_campaign_is_refused(campaign, tmp_path):
    path = write(tmp_path, "t.csv", csv_bytes([["机构号", "dep"], ["B1", "1"]]))
    assert "campaign" in preview_file("targets", path, filename="t.csv").file_errors[0]


def test_a_misspelt_metric_column_is_named_in_the_preview(campaign, tmp_path):
    preview = run(campaign, tmp_path, [["机构号", "dep", "P0S"], ["B1", "5", "7"]])
    assert [(f.key, f.fate) for f in preview.fates] == [("B1 · 存款 · campaign", "new")]
    assert any("P0S" in note and "pos" in note for note in preview.notes)


def test_the_campaigns_own_target_check_runs_in_the_preview(campaign, tmp_path, monkeypatch):
    from django.core.exceptions import ValidationError

    from campaigns import target_import

    def refuse(target):
        raise ValidationError({"target_value": "refused by the campaign"})

    monkeypatch.setattr(target_import, "validate_target", refuse)
    preview = run(campaign, tmp_path, [["机构号", "dep"], ["B1", "5"]])
    assert [(e.row_no, e.column, e.message) for e in preview.errors] == [(2, "dep", "refused by the campaign")]


def test_targets_from_an_xls_workbook(campaign, tmp_path):
    from tests.imports.conftest import xls_bytes

    path = write(tmp_path, "t.xls", xls_bytes([["机构号", "存款(万元)", "POS"], ["B1", 12.5, 3]]))
    result = apply_file("targets", path, filename="t.xls", options={"campaign_id": campaign.pk})
    assert result.new == 2
    assert Target.objects.get(metric__code="dep").target_value == Decimal("125000")


def test_targets_changed_by_a_file_recompute_the_days_already_computed(campaign, tmp_path, queued_recomputes, django_capture_on_commit_callbacks):
    from django.utils import timezone

    from scoring.models import ResultSet

    campaign.status = "active"
    campaign.save(update_fields=["status"])
    for day in (datetime.date(2027, 1, 20), datetime.date(2027, 2, 10)):
        ResultSet.objects.create(campaign=campaign, business_date=day, version=1, is_current=True, computed_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        run(campaign, tmp_path, [["机构号", "期间", "dep"], ["B1", "2027-02", "40"]], apply=True)
    assert queued_recomputes == [(campaign.pk, "2027-02-10")]  # a February target: February's day on
    with django_capture_on_commit_callbacks(execute=True):
        run(campaign, tmp_path, [["机构号", "dep"], ["B1", "100"]], apply=True)
    assert queued_recomputes[1:] == [(campaign.pk, "2027-01-20"), (campaign.pk, "2027-02-10")]
