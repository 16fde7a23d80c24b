"""A locked run and its lines never change: refused by the model and by the database itself."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import DatabaseError, transaction

from branches.models import SubjectKind
from rewards import services
from rewards.models import LineKind, LockedError, PayoutLine, PayoutRun, PeriodKind
from tests.rewards.conftest import JAN_END, Q1_START, settle


@pytest.fixture
def locked_run(scheme, finance, small_bank):
    run = services.create_payout_run(
        scheme=scheme,
        period_kind=PeriodKind.MONTH,
        period_start=Q1_START,
        period_end=JAN_END,
        by=finance["maker"],
    )
    PayoutLine.objects.create(
        run=run,
        payee_kind=SubjectKind.STAFF,
        payee_id=small_bank["s1"].pk,
        payee_name="张伟",
        employee_no="E001",
        unit_code="B1",
        unit_name="城关信用社",
        rule_name="manual",
        period_start=Q1_START,
        period_end=JAN_END,
        kind=LineKind.AWARD,
        amount=Decimal("1000.00"),
    )
    return settle(run, finance)


def test_model_refuses_to_save_or_delete_a_locked_run(locked_run):
    locked_run.note = "changed"
    with pytest.raises(LockedError):
        locked_run.save()
    with pytest.raises(LockedError):
        locked_run.delete()


def test_model_refuses_to_change_a_locked_runs_lines(locked_run):
    line = locked_run.lines.get()
    line.amount = Decimal("2000.00")
    with pytest.raises(LockedError):
        line.save()
    with pytest.raises(LockedError):
        line.delete()


def test_database_refuses_update_of_a_locked_run(locked_run):
    with pytest.raises(DatabaseError), transaction.atomic():
        PayoutRun.objects.filter(pk=locked_run.pk).update(note="bypassing the model")


def test_database_refuses_update_insert_and_delete_of_locked_lines(locked_run):
    with pytest.raises(DatabaseError), transaction.atomic():
        PayoutLine.objects.filter(run=locked_run).update(amount=Decimal("2000.00"))
    with pytest.raises(DatabaseError), transaction.atomic():
        PayoutLine.objects.filter(run=locked_run).delete()
    line = PayoutLine.objects.filter(run=locked_run).values().get()
    line.pop("id")
    with pytest.raises(DatabaseError), transaction.atomic():
        PayoutLine.objects.bulk_create([PayoutLine(**line)])
    assert PayoutLine.objects.get(run=locked_run).amount == Decimal("1000.00")


def test_correction_after_locking_is_an_adjustment_line_in_a_later_run(locked_run, scheme, finance):
    later = services.create_payout_run(
        scheme=scheme,
        period_kind=PeriodKind.CORRECTION,
        period_start=Q1_START,
        period_end=JAN_END,
        by=finance["maker"],
    )
    original = locked_run.lines.get()
    adjustment = services.add_adjustment_line(
        later, original=original, amount="-1000", reason="figures falsified", by=finance["maker"]
    )
    assert adjustment.adjusts == original and adjustment.kind == LineKind.MANUAL
    assert original.amount + adjustment.amount == Decimal("0.00")


@pytest.fixture
def signed_runs(scheme, finance, small_bank):
    """Runs at each state after draft, each with one line: reviewed, approved (and locked_run)."""

    def run_in(state):
        run = services.create_payout_run(
            scheme=scheme, period_kind=PeriodKind.MONTH, period_start=Q1_START, period_end=JAN_END,
            by=finance["maker"], calculate=False,
        )
        PayoutLine.objects.create(
            run=run, payee_kind=SubjectKind.STAFF, payee_id=small_bank["s1"].pk, payee_name="张伟", employee_no="E001",
            unit_code="B1", unit_name="城关信用社", rule_name="manual", period_start=Q1_START, period_end=JAN_END,
            kind=LineKind.AWARD, amount=Decimal("1000.00"),
        )
        run = services.review_payout_run(run, by=finance["maker"])
        if state == "approved":
            run = services.approve_payout_run(run, by=finance["checker"])
        return run

    return run_in


@pytest.mark.parametrize("state", ["reviewed", "approved"])
def test_only_a_draft_runs_lines_change(signed_runs, state):
    """What was reviewed is what is approved is what is locked: an approved run's lines changed by
    QuerySet.update() would be locked as changed."""
    run = signed_runs(state)
    with pytest.raises(DatabaseError), transaction.atomic():
        PayoutLine.objects.filter(run=run).update(amount=Decimal("99999"))
    with pytest.raises(DatabaseError), transaction.atomic():
        PayoutLine.objects.filter(run=run).delete()
    line = run.lines.get()
    line.amount = Decimal("99999")
    with pytest.raises(LockedError):
        line.save()
    with pytest.raises(LockedError):
        line.delete()
    assert PayoutLine.objects.get(run=run).amount == Decimal("1000.00")


def test_a_signed_runs_period_and_maker_do_not_change(signed_runs, finance):
    run = signed_runs("approved")
    with pytest.raises(DatabaseError), transaction.atomic():
        PayoutRun.objects.filter(pk=run.pk).update(period_end=Q1_START)
    with pytest.raises(DatabaseError), transaction.atomic():
        PayoutRun.objects.filter(pk=run.pk).update(created_by=finance["checker"])
    services.return_payout_run_to_draft(run, by=finance["checker"])  # the state itself still moves


def test_a_draft_runs_lines_still_change(scheme, finance, small_bank):
    run = services.create_payout_run(
        scheme=scheme, period_kind=PeriodKind.MONTH, period_start=Q1_START, period_end=JAN_END, by=finance["maker"],
    )
    line = PayoutLine.objects.create(
        run=run, payee_kind=SubjectKind.UNIT, payee_id=small_bank["b1"].pk, payee_name="城关信用社", unit_code="B1",
        rule_name="manual", period_start=Q1_START, period_end=JAN_END, amount=Decimal("1.00"),
    )
    PayoutLine.objects.filter(pk=line.pk).update(amount=Decimal("2.00"))
    line.refresh_from_db()
    line.delete()


def test_truncate_cannot_empty_the_lines_of_a_locked_run(locked_run):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("TRUNCATE is PostgreSQL's; on SQLite a DELETE without WHERE meets the row triggers")
    with connection.cursor() as cursor:  # check the test's deferred foreign keys now: TRUNCATE waits for none
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    for statement in ("TRUNCATE rewards_payoutline CASCADE", "TRUNCATE rewards_payoutrun CASCADE",
                      "TRUNCATE rewards_rewardscheme CASCADE"):
        with pytest.raises(DatabaseError, match="cannot be truncated"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)
    assert PayoutLine.objects.filter(run=locked_run).count() == 1


def test_delete_without_where_cannot_empty_the_lines_of_a_locked_run(locked_run):
    with pytest.raises(DatabaseError), transaction.atomic():
        PayoutLine.objects.all().delete()
    assert PayoutLine.objects.filter(run=locked_run).count() == 1
