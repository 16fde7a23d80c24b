"""Reads of payouts: a run's lines and totals, budget status, and statements per person and unit."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum

from branches import access
from branches.models import SubjectKind, Unit
from rewards.models import LineKind, PayoutLine, PayoutRun, RewardScheme, RunChange, RunState
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


COMPUTED_CORRECTIONS = (LineKind.TRUE_UP, LineKind.CLAWBACK, LineKind.ADJUSTMENT)


def corrections_on_manual_adjustments(run: PayoutRun) -> list[PayoutLine]:
    """This run's computed corrections (true-up, clawback, adjustment) going the same way as the
    manual adjustments of their rule, payee and period (locked runs and this run): finance clawed
    back 3,000 by hand for falsified figures, the figures were then corrected too, and the run
    claws back 3,000 again — the money taken twice. Each line gets ``manual_total``. Two queries:
    manual lines are few, so they are read first."""
    manual = (
        PayoutLine.objects.filter(
            Q(run__scheme_id=run.scheme_id, run__state=RunState.LOCKED) | Q(run=run), kind=LineKind.MANUAL
        )
        .values("rule_id", "payee_kind", "payee_id", "period_start")
        .annotate(total=Sum("amount"))
    )
    totals = {(m["rule_id"], m["payee_kind"], m["payee_id"], m["period_start"]): m["total"] for m in manual if m["total"]}
    if not totals:
        return []
    candidates = run.lines.filter(
        kind__in=COMPUTED_CORRECTIONS,
        rule_id__in={rule_id for rule_id, *_rest in totals},
        payee_id__in={payee_id for _rule, _kind, payee_id, _start in totals},
    ).order_by("id")
    found = []
    for line in candidates:
        total = totals.get((line.rule_id, line.payee_kind, line.payee_id, line.period_start))
        if total is not None and (total > 0) == (line.amount > 0):
            line.manual_total = total
            found.append(line)
    return found


def corrections_acknowledged(run: PayoutRun) -> RunChange | None:
    """The acknowledgement of this run's corrections on top of manual adjustments, if one was made
    after the lines last changed (a recalculation or an added line needs a new one)."""
    last = run.changes.order_by("-id").filter(action__in=RunChange.CALCULATING).values_list("id", flat=True).first()
    return (
        run.changes.filter(action=RunChange.Action.ACKNOWLEDGED, id__gt=last or 0)
        .select_related("by")
        .order_by("-id")
        .first()
    )


def rules_changed_since_calculation(run: PayoutRun) -> bool:
    """Whether the scheme's rules (or budget) differ from those the run's lines were calculated on
    (False for a run made without calculation, or before the rules were recorded)."""
    from rewards.calculate import rules_fingerprint

    if not run.rules_fingerprint:
        return False
    return rules_fingerprint(RewardScheme.objects.get(pk=run.scheme_id)) != run.rules_fingerprint


def adjustable_line(run: PayoutRun, number) -> PayoutLine | None:
    """The line numbered ``number`` (its id, as the pages show it: #123) if a manual adjustment in
    ``run`` may correct it: a line of a locked run of the same scheme. None otherwise."""
    try:
        pk = int(str(number).strip().lstrip("#"))
    except ValueError:
        return None
    return (
        PayoutLine.objects.filter(pk=pk, run__scheme_id=run.scheme_id, run__state=RunState.LOCKED)
        .select_related("run")
        .first()
    )


def paid_for_rule(line: PayoutLine) -> QuerySet[PayoutLine]:
    """What locked runs of ``line``'s scheme paid its payee under its rule, oldest first (what a
    manual adjustment of ``line`` corrects)."""
    return statement(payee_kind=line.payee_kind, payee_id=line.payee_id, scheme=line.run.scheme).filter(
        rule_id=line.rule_id, run__state=RunState.LOCKED
    )


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
