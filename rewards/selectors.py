"""Reads of payouts: a run's lines and totals, budget status, and statements per person and unit."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum

from branches import access
from branches.models import SubjectKind, Unit
from rewards.models import PayoutLine, PayoutRun, RewardScheme, RunState
from rewards.money import to_fen

ZERO = Decimal("0.00")


def runs_for(user) -> QuerySet[PayoutRun]:
    """Payout runs ``user`` may see: finance and head-office roles see all, others none."""
    if access.scope_for(user).whole_bank:
        return PayoutRun.objects.select_related(
            "scheme", "created_by", "reviewed_by", "approved_by", "locked_by"
        )
    return PayoutRun.objects.none()


def run_lines(run: PayoutRun) -> QuerySet[PayoutLine]:
    """The run's lines in statement order (unit, employee number)."""
    return run.lines.order_by("unit_code", "employee_no", "id")


def described(lines) -> list[PayoutLine]:
    """``lines`` as a list, each with ``figures_text``: its figures in the user's language
    (``rewards.line_figures``; one query per rule, not per line), for the pages."""
    from rewards.line_figures import FigureText

    text, described_lines = FigureText(), list(lines)
    for line in described_lines:
        line.figures_text = text(rule_id=line.rule_id, kind=line.kind, figures=line.figures)
    return described_lines


def run_total(run: PayoutRun) -> Decimal:
    return run.lines.aggregate(total=Sum("amount"))["total"] or ZERO


def totals_by_unit(run: PayoutRun) -> list[dict]:
    """[{unit_code, unit_name, lines, total}] for the run, one row per unit (one query)."""
    return list(
        run.lines.values("unit_code", "unit_name")
        .annotate(lines=Count("id"), total=Sum("amount"))
        .order_by("unit_code")
    )


def totals_by_rule(run: PayoutRun) -> list[dict]:
    """[{rule_name, kind, lines, total}] for the run, one row per rule and line kind."""
    return list(
        run.lines.values("rule_name", "kind")
        .annotate(lines=Count("id"), total=Sum("amount"))
        .order_by("rule_name", "kind")
    )


@dataclass(frozen=True)
class BudgetStatus:
    budget: Decimal | None
    awarded: Decimal  # awards to date: locked runs plus this run, penalties not counted
    overrun: Decimal  # how far ``awarded`` exceeds the budget (0 when within or uncapped)


def budget_status(run: PayoutRun) -> BudgetStatus:
    """The scheme's awards to date (locked runs + this run) against its budget; shown before approval.

    Awarded is the net of each (rule, payee, window) where it is above 0: what was awarded less
    what was clawed back, a penalty (a net below 0) counting as nothing. Line kinds cannot tell
    it: a penalty taken back is a true-up or an adjustment of +500 that awards nothing, and a
    head-to-head unit may lose one month and win the next. One grouped query.
    """
    scheme: RewardScheme = run.scheme
    slots = (
        PayoutLine.objects.filter(Q(run__scheme=scheme, run__state=RunState.LOCKED) | Q(run=run))
        .values("rule_id", "payee_kind", "payee_id", "period_start")
        .annotate(net=Sum("amount"))
        .filter(net__gt=0)
    )
    awarded = slots.aggregate(total=Sum("net"))["total"] or ZERO
    awarded = to_fen(awarded)
    overrun = max(awarded - scheme.budget, ZERO) if scheme.budget is not None else ZERO
    return BudgetStatus(scheme.budget, awarded, overrun)


def statement(*, payee_kind: int, payee_id: int, scheme: RewardScheme | None = None) -> QuerySet[PayoutLine]:
    """Every line paid to one staff member or unit, oldest run first (a person's or unit's statement)."""
    lines = PayoutLine.objects.filter(payee_kind=payee_kind, payee_id=payee_id).select_related("run")
    if scheme is not None:
        lines = lines.filter(run__scheme=scheme)
    return lines.order_by("run__period_end", "run_id", "id")


def staff_statement_for(user, staff) -> QuerySet[PayoutLine] | None:
    """The lines of ``staff``'s statement that ``user`` may see; None when they may see none.

    The whole bank and the person see every line. A branch manager sees the person only if they
    were assigned inside the manager's subtree at some time (``access.staff_periods_visible``:
    figures before a move stay with the old unit), and only the lines that belong to a unit of
    the subtree: each line carries the unit it belongs to (``rewards.placement``), so the old
    branch keeps what was earned there and the new one sees none of it."""
    scope = access.scope_for(user)
    spans = access.staff_periods_visible(scope, staff)
    if spans == []:
        return None
    lines = statement(payee_kind=SubjectKind.STAFF, payee_id=staff.pk)
    if spans is None:
        return lines
    return lines.filter(unit_code__in=Unit.objects.filter(path__startswith=scope.unit_path).values("code"))


def unit_statement(*, unit_code: str, scheme: RewardScheme | None = None) -> QuerySet[PayoutLine]:
    """Every line for a unit and its staff (by the unit code copied on each line)."""
    lines = PayoutLine.objects.filter(unit_code=unit_code).select_related("run")
    if scheme is not None:
        lines = lines.filter(run__scheme=scheme)
    return lines.order_by("run__period_end", "run_id", "payee_kind", "employee_no", "id")


def paid_to_date(*, scheme: RewardScheme, payee_kind: int = SubjectKind.STAFF, payee_id: int) -> Decimal:
    """What locked runs of ``scheme`` paid one payee in total."""
    return (
        PayoutLine.objects.filter(
            run__scheme=scheme, run__state=RunState.LOCKED, payee_kind=payee_kind, payee_id=payee_id
        ).aggregate(total=Sum("amount"))["total"]
        or ZERO
    )
