"""Writes for payouts, one function per action finance takes, in the bank's words.

Every function checks the acting user's role (finance) and the run's state, records who and when,
and raises ``PayoutError`` (a ValidationError with a translated message) when it refuses.
"""

from __future__ import annotations

import datetime
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from branches import roles
from rewards.models import (
    LineKind,
    PayoutExport,
    PayoutLine,
    PayoutRun,
    PeriodKind,
    RewardScheme,
    RunChange,
    RunState,
)


class PayoutError(ValidationError):
    """A payout action refused for a business reason (wrong state, four eyes, open run)."""


def _require_finance(user) -> None:
    if roles.FINANCE not in roles.roles_of(user):
        raise PermissionDenied(_("Only finance (财务部) may work on payout runs."))


def _require_readable_rules(scheme: RewardScheme) -> None:
    """Refuse a run whose rules name a ranking or metric the campaign no longer has (renamed)."""
    from rewards import references

    problems = references.scheme_problems(scheme)
    if problems:
        raise PayoutError(problems, code="missing_code")


def _require_state(run: PayoutRun, expected: str, action: str) -> None:
    if run.state != expected:
        raise PayoutError(
            _("Payout run #%(id)s is %(state)s; it must be %(expected)s to %(action)s.")
            % {
                "id": run.pk,
                "state": run.get_state_display(),
                "expected": RunState(expected).label,
                "action": action,
            }
        )


@transaction.atomic
def create_payout_run(
    *,
    scheme: RewardScheme,
    period_kind: str,
    period_start: datetime.date,
    period_end: datetime.date,
    by,
    calculate: bool = True,
    note: str = "",
) -> PayoutRun:
    """Make a draft run for a month, the quarter or a correction, and calculate its lines.

    Lines are what each rule owes for the period, less what locked runs of the scheme already
    paid (``rewards.calculate``), so monthly payments plus later true-ups and clawbacks always add
    up to the final amount. Refuses while another run of the scheme is not locked (what was paid
    must be settled before the next run is computed against it), and a period ending before the
    latest run's end (later runs recompute earlier months, so a correction goes in the next run).
    """
    _require_finance(by)
    if period_kind not in PeriodKind.values:
        raise PayoutError(_("Unknown period kind %(kind)s.") % {"kind": period_kind}, code="period_kind")
    if period_end < period_start:
        raise PayoutError(_("The period ends before it starts."), code="period_end")
    if calculate:
        _require_readable_rules(scheme)
    # Serialise run creation per scheme (PostgreSQL row lock; SQLite locks the database anyway).
    RewardScheme.objects.select_for_update().get(pk=scheme.pk)
    open_run = scheme.runs.exclude(state=RunState.LOCKED).first()
    if open_run is not None:
        raise PayoutError(
            _("Payout run #%(id)s of this scheme is not locked yet; lock it before making the next run.")
            % {"id": open_run.pk},
            code="open_run",
        )
    last_end = scheme.runs.order_by("-period_end").values_list("period_end", flat=True).first()
    if last_end is not None and period_end < last_end:
        raise PayoutError(
            _("The scheme was already paid up to %(day)s; a new run must end on or after that day.")
            % {"day": last_end},
            code="period_end",
        )
    run = PayoutRun.objects.create(
        scheme=scheme,
        period_kind=period_kind,
        period_start=period_start,
        period_end=period_end,
        created_by=by,
        note=note,
    )
    RunChange.objects.create(run=run, by=by, action=RunChange.Action.MADE)
    if calculate:
        from rewards import calculate as calculation

        calculation.fill_run(run)
    return run


@transaction.atomic
def recalculate_payout_run(run: PayoutRun, *, by) -> PayoutRun:
    """Throw away a draft run's computed lines and compute them again from today's figures
    (finance's manual adjustments in it stay)."""
    _require_finance(by)
    run = PayoutRun.objects.select_for_update().get(pk=run.pk)
    _require_state(run, RunState.DRAFT, _("recalculate it"))
    _require_readable_rules(run.scheme)
    from rewards import calculate as calculation

    calculation.delete_draft_lines(run, computed_only=True)
    calculation.fill_run(run)
    RunChange.objects.create(run=run, by=by, action=RunChange.Action.RECALCULATED)
    return run


def _amount(value) -> Decimal:
    """A typed amount of yuan as Decimal to the fen; PayoutError naming the field otherwise."""
    from rewards.money import to_fen

    try:
        amount = to_fen(Decimal(str(value).strip().replace(",", "")))
    except (InvalidOperation, ValueError) as error:
        raise PayoutError(
            {"amount": _("Amount: %(value)r is not an amount of yuan (e.g. -3000.00).") % {"value": value}},
            code="amount",
        ) from error
    if not amount:
        raise PayoutError({"amount": _("Amount: an adjustment of 0.00 changes nothing.")}, code="amount")
    return amount


@transaction.atomic
def add_adjustment_line(run: PayoutRun, *, original: PayoutLine, amount, reason: str, by) -> PayoutLine:
    """Add a manual correction (e.g. falsified figures found: 退钱交荣誉) to a draft run.

    The new line references ``original``, which must belong to a locked run of the same scheme.
    ``amount`` is yuan (a number or text such as "-3,000.00"); errors name the field.
    """
    _require_finance(by)
    run = PayoutRun.objects.select_for_update().get(pk=run.pk)
    _require_state(run, RunState.DRAFT, _("add lines"))
    if original.run.scheme_id != run.scheme_id or original.run.state != RunState.LOCKED:
        raise PayoutError(
            {"original": _("An adjustment must correct a line of a locked run of the same scheme.")}, code="original"
        )
    if not reason.strip():
        raise PayoutError({"reason": _("Give the reason for the adjustment.")}, code="reason")
    amount = _amount(amount)
    RunChange.objects.create(run=run, by=by, action=RunChange.Action.LINE_ADDED)
    return PayoutLine.objects.create(
        run=run,
        payee_kind=original.payee_kind,
        payee_id=original.payee_id,
        payee_name=original.payee_name,
        employee_no=original.employee_no,
        unit_code=original.unit_code,
        unit_name=original.unit_name,
        rule=original.rule,
        rule_name=original.rule_name,
        period_start=original.period_start,
        period_end=original.period_end,
        kind=LineKind.MANUAL,
        amount=amount,
        figures={"reason": reason, "by": by.get_username()},
        formula=reason,
        adjusts=original,
    )


@transaction.atomic
def review_payout_run(run: PayoutRun, *, by) -> PayoutRun:
    """Mark a draft run as checked (复核) by ``by``; records who and when."""
    _require_finance(by)
    run = PayoutRun.objects.select_for_update().get(pk=run.pk)
    _require_state(run, RunState.DRAFT, _("review it"))
    run.state, run.reviewed_by, run.reviewed_at = RunState.REVIEWED, by, timezone.now()
    run.save()
    return run


@transaction.atomic
def acknowledge_corrections_on_manual_adjustments(run: PayoutRun, *, by) -> RunChange:
    """Confirm that this draft's computed corrections on top of manual adjustments stand
    (``selectors.corrections_on_manual_adjustments``: a computed clawback where finance already
    clawed back by hand takes the money twice). Recorded as a ``RunChange`` naming the lines; the
    person who acknowledges is one of the run's makers for four eyes. A recalculation or a line
    added later needs a new acknowledgement."""
    from rewards import selectors

    _require_finance(by)
    run = PayoutRun.objects.select_for_update().get(pk=run.pk)
    _require_state(run, RunState.DRAFT, _("acknowledge a warning"))
    lines = selectors.corrections_on_manual_adjustments(run)
    if not lines:
        raise PayoutError(
            _("Payout run #%(id)s has no computed correction on top of a manual adjustment to acknowledge.")
            % {"id": run.pk},
            code="nothing_to_acknowledge",
        )
    return RunChange.objects.create(
        run=run, by=by, action=RunChange.Action.ACKNOWLEDGED, details={"lines": [line.pk for line in lines]}
    )


def _require_current_rules(run: PayoutRun) -> None:
    """Refuse a run whose scheme's rules changed after its lines were calculated (an edit in the
    admin or a campaign file would otherwise be approved unseen, computed on the old rules)."""
    from rewards import selectors

    if selectors.rules_changed_since_calculation(run):
        raise PayoutError(
            _("The rules of scheme %(scheme)s changed after payout run #%(id)s was calculated: recalculate it before approving it.")
            % {"scheme": run.scheme.code, "id": run.pk},
            code="rules_changed",
        )


def _require_acknowledged_corrections(run: PayoutRun) -> None:
    """Refuse a run with computed corrections on top of manual adjustments nobody acknowledged."""
    from rewards import selectors

    lines = selectors.corrections_on_manual_adjustments(run)
    if lines and not selectors.corrections_acknowledged(run):
        raise PayoutError(
            _(
                "Payout run #%(id)s corrects lines that manual adjustments already corrected (lines %(lines)s): "
                "offset them with a manual line or acknowledge them before approving."
            )
            % {"id": run.pk, "lines": ", ".join(f"#{line.pk}" for line in lines[:20])},
            code="corrections_on_manual",
        )


@transaction.atomic
def approve_payout_run(run: PayoutRun, *, by) -> PayoutRun:
    """Approve a reviewed run (审批). Four eyes: nobody who made or changed the run (recalculated
    it, added a line, acknowledged a warning: ``RunChange.MAKING``) may approve it, so a checker
    cannot add a line to the maker's draft and approve it himself. Refused too while the
    scheme's rules changed since the calculation, and while computed corrections on top of manual
    adjustments are not acknowledged."""
    _require_finance(by)
    run = PayoutRun.objects.select_for_update().get(pk=run.pk)
    _require_state(run, RunState.REVIEWED, _("approve it"))
    if run.created_by_id == by.pk:
        raise PayoutError(
            _("Four eyes: the person who made payout run #%(id)s may not approve it.") % {"id": run.pk},
            code="four_eyes",
        )
    if run.changes.filter(by=by, action__in=RunChange.MAKING).exists():
        raise PayoutError(
            _(
                "Four eyes: you changed payout run #%(id)s (recalculated it, added a line or acknowledged a warning), "
                "so you may not approve it."
            )
            % {"id": run.pk},
            code="four_eyes",
        )
    _require_current_rules(run)
    _require_acknowledged_corrections(run)
    run.state, run.approved_by, run.approved_at = RunState.APPROVED, by, timezone.now()
    run.save()
    return run


def _signed(user, moment) -> dict:
    return {"by": user.get_username(), "at": moment.isoformat()} if user else {}


@transaction.atomic
def return_payout_run_to_draft(run: PayoutRun, *, by) -> PayoutRun:
    """Send a reviewed or approved (not locked) run back to draft; clears the sign-offs and records
    who sent it back, when, from which state and whose sign-offs it cleared (``RunChange``)."""
    _require_finance(by)
    run = PayoutRun.objects.select_for_update().get(pk=run.pk)
    if run.state not in (RunState.REVIEWED, RunState.APPROVED):
        _require_state(run, RunState.REVIEWED, _("send it back"))
    details = {
        "from": run.state,
        "reviewed": _signed(run.reviewed_by, run.reviewed_at),
        "approved": _signed(run.approved_by, run.approved_at),
    }
    run.state = RunState.DRAFT
    run.reviewed_by = run.reviewed_at = run.approved_by = run.approved_at = None
    run.save()
    RunChange.objects.create(run=run, by=by, action=RunChange.Action.RETURNED, details=details)
    return run


@transaction.atomic
def lock_payout_run(run: PayoutRun, *, by) -> PayoutRun:
    """Lock an approved run (锁定): from now on neither the run nor its lines ever change."""
    _require_finance(by)
    run = PayoutRun.objects.select_for_update().get(pk=run.pk)
    _require_state(run, RunState.APPROVED, _("lock it"))
    run.state, run.locked_by, run.locked_at = RunState.LOCKED, by, timezone.now()
    run.save()
    return run


def request_payout_export(run: PayoutRun, *, exporter: str, by) -> PayoutExport:
    """Queue an export of ``run`` (any state: finance checks drafts too) and return it.

    The file is written by a Celery task (in-process when embedded); ``PayoutExport`` carries the
    progress for the progress bar and the file for the download link.
    """
    from rewards import exporters, tasks

    _require_finance(by)
    if exporter not in exporters.REGISTRY:
        raise PayoutError(_("Unknown export %(name)s.") % {"name": exporter}, code="exporter")
    export = PayoutExport.objects.create(run=run, exporter=exporter, requested_by=by)
    language = translation.get_language()  # the file's words in the requester's language
    transaction.on_commit(lambda: tasks.render_payout_export.delay(export.pk, language))
    return export
