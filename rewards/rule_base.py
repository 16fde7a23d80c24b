"""What every reward rule kind shares: its common parameters, conditions and who is paid.

The kinds themselves (``rewards.rules``) only say what one subject (a unit or a staff member)
earned; this module filters the subjects by the rule's conditions and participants, applies the
others' share, and hands each result to its beneficiaries (the unit, the staff member, the unit's
head, deputies, every employee, or staff in named positions with a share each).
"""

from __future__ import annotations

import datetime
import itertools
import operator
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from decimal import ROUND_FLOOR, Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from branches.models import Position, SubjectKind, Unit
from branches.selectors import assignments_on
from rewards.batching import filter_ids
from rewards.figures import FigureBook, same_for_everyone, validate_expression

ZERO = Decimal(0)
OPERATORS = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt, "==": operator.eq}
BENEFICIARIES = ("unit", "self", "head", "deputies", "every_staff", "positions")
PAYMENTS = ("cumulative", "at_end", "each_month")
SHARE_CHUNK = 10_000  # subjects whose others' share is decided together


def _number(params: dict, key: str, where: str, *, required: bool = True, default=None) -> Decimal | None:
    if key not in params:
        if required:
            raise ValidationError(_("%(where)s: %(key)s is required.") % {"where": where, "key": key})
        return default
    try:
        return Decimal(str(params[key]))
    except ArithmeticError as error:
        raise ValidationError(
            _("%(where)s: %(key)s must be a number, not %(value)r.")
            % {"where": where, "key": key, "value": params[key]}
        ) from error


def _floor(value: Decimal) -> Decimal:
    return value.to_integral_value(rounding=ROUND_FLOOR)


def _fmt(value: Decimal) -> str:
    return f"{value.normalize():f}" if value == value.to_integral_value() else f"{value:f}"


@dataclass
class Result:
    """What one subject (unit or staff member) earned under a rule, before it reaches payees."""

    amount: Decimal
    figures: dict
    formula: str
    award: str = ""
    value: Decimal = ZERO


@dataclass
class Entitlement:
    """What one payee is owed under a rule to date, unrounded; ``rewards.calculate`` rounds it."""

    payee_kind: int
    payee_id: int
    amount: Decimal
    figures: dict
    formula: str
    award: str = ""
    value: Decimal = ZERO
    penalty: bool = False
    period: tuple = ()  # (start, as-of) of the window it was computed on; set by rewards.calculate
    # The unit the line belongs to when it is not the payee's own: a unit's result handed to its
    # head, deputies or staff belongs to that unit. None: a unit's own, or a staff member's own
    # (the unit of most of the window, ``rewards.placement``).
    unit_id: int | None = None


@dataclass
class Window:
    """The dates a rule is computed for in one run: its period start and the as-of date."""

    start: datetime.date
    as_of: datetime.date
    campaign_code: str = ""
    book: FigureBook = field(init=False)

    def __post_init__(self):
        self.book = FigureBook(start=self.start, as_of=self.as_of, campaign_code=self.campaign_code)


def validate_conditions(conditions, where: str) -> None:
    """Raise ValidationError naming the condition if ``conditions`` is not a list of comparisons."""
    if not isinstance(conditions, list):
        raise ValidationError(_("%(where)s: give a list of conditions.") % {"where": where})
    for index, condition in enumerate(conditions):
        place = f"{where}[{index}]"
        if not isinstance(condition, dict):
            raise ValidationError(_("%(where)s: a condition is an object {figure, op, value}.") % {"where": place})
        validate_expression(condition.get("figure"), f"{place}.figure")
        if condition.get("op", ">=") not in OPERATORS:
            raise ValidationError(_("%(where)s.op: must be one of >=, >, <=, <, ==.") % {"where": place})
        if isinstance(condition.get("value"), dict):
            validate_expression(condition["value"], f"{place}.value")
        else:
            _number(condition, "value", place)
        if "positions" in condition:
            names = condition["positions"]
            if not isinstance(names, list) or not names or any(name not in Position.values for name in names):
                raise ValidationError(
                    _("%(where)s.positions: give the positions the condition applies to, from %(choices)s.")
                    % {"where": place, "choices": ", ".join(Position.values)}
                )


def validate_period(period) -> None:
    """``period``: ``{start, end}`` (dates, each optional: default the scheme's) or ``{phase: CODE}``
    (the campaign phase's dates, read at each run, so moving the phase moves the reward)."""
    if period is None:
        return
    if not isinstance(period, dict) or not set(period) <= {"start", "end", "phase"}:
        raise ValidationError(_("period: give {start, end} (dates) or {phase: a phase code}."))
    if "phase" in period:
        if set(period) != {"phase"} or not isinstance(period["phase"], str) or not period["phase"]:
            raise ValidationError(_("period.phase: give the phase code alone, without start or end."))
        return
    for key in ("start", "end"):
        if key in period:
            try:
                datetime.date.fromisoformat(str(period[key]))
            except ValueError as error:
                raise ValidationError(
                    _("period.%(key)s: %(value)r is not a date (YYYY-MM-DD).") % {"key": key, "value": period[key]}
                ) from error


def validate_placeholders(params: dict) -> None:
    """``placeholders``: the params a template ships with made-up values (e.g. ``["bands"]``,
    ``["conditions[0].value"]``); a payout run is refused while the list is there
    (``rewards.references``), so the planner replaces the values and removes the list."""
    if "placeholders" not in params:
        return
    names = params["placeholders"]
    if not isinstance(names, list) or not all(isinstance(name, str) and name for name in names):
        raise ValidationError(_("placeholders: give the list of parameters still holding placeholder values."))
    for name in names:
        head = name.split(".")[0].split("[")[0]
        if head not in params or head == "placeholders":
            raise ValidationError(_("placeholders: %(name)s is not a parameter of this rule.") % {"name": name})


def meeting(book: FigureBook, conditions: list, subject_ids) -> set[int]:
    """The subjects of ``subject_ids`` meeting every condition (a subject lacking a figure fails).

    A condition with ``positions`` (staff rules) binds only the staff holding one of them on the
    as-of date; everyone else passes it. Rulebook C: "supervisors must be rated green to win a
    trip" (主管必须…绿牌), while an agent wins the same trip without the rating."""
    kept = set(subject_ids)
    for condition in conditions:
        bound = kept
        if condition.get("positions"):
            bound = set(
                filter_ids(
                    assignments_on(book.as_of).filter(position__in=condition["positions"]).values_list(
                        "staff_id", flat=True
                    ),
                    "staff_id",
                    kept,
                )
            )
        values = book.evaluate(condition["figure"])
        compare = OPERATORS[condition.get("op", ">=")]
        if isinstance(condition.get("value"), dict):
            bars = book.evaluate(condition["value"])
            failed = {sid for sid in bound if not (sid in values and sid in bars and compare(values[sid], bars[sid]))}
        else:
            bar = Decimal(str(condition["value"]))
            failed = {sid for sid in bound if not (sid in values and compare(values[sid], bar))}
        kept -= failed
    return kept


class RuleKind:
    """Base class: common parameters; subclasses implement ``check``, ``level`` and ``results``."""

    key: str = ""
    label = gettext_lazy("rule")
    penalty = False
    # The parameters naming the figure(s) a subject is paid on: they must list subjects.
    main_figures: tuple[str, ...] = ()

    def __init__(self, params: dict):
        self.params = params
        # A kind that pays awards may be used for a penalty (negative bands): a later change of
        # it is then a penalty adjustment, not a true-up or clawback.
        if params.get("penalty") is True:
            self.penalty = True

    # --- validation ---------------------------------------------------------------------
    def validate(self) -> None:
        params = self.params
        validate_period(params.get("period"))
        if params.get("payment", "cumulative") not in PAYMENTS:
            raise ValidationError(
                _("payment: must be one of %(choices)s.") % {"choices": ", ".join(PAYMENTS)}
            )
        if params.get("beneficiary", "unit") not in BENEFICIARIES:
            raise ValidationError(
                _("beneficiary: must be one of %(choices)s.") % {"choices": ", ".join(BENEFICIARIES)}
            )
        _number(params, "share", "share", required=False)
        _number(params, "value", "value", required=False)
        others = _number(params, "others_share", "others_share", required=False)
        if others is not None and others != 1 and not params.get("full_share_if"):
            # Without it nobody is told apart, and the share would silently apply to no one.
            raise ValidationError(
                _("others_share: give full_share_if (the conditions for the full share) with it.")
            )
        validate_conditions(params.get("conditions", []), "conditions")
        validate_placeholders(params)
        if "penalty" in params and not isinstance(params["penalty"], bool):
            raise ValidationError(_("penalty: true or false."))
        validate_conditions(params.get("full_share_if", []), "full_share_if")
        positions = set(Position.values)
        for name in params.get("excluded_positions", []):
            if name not in positions:
                raise ValidationError(_("excluded_positions: %(name)s is not a position.") % {"name": name})
        if params.get("beneficiary") == "positions":
            shares = params.get("positions")
            if not isinstance(shares, dict) or not shares:
                raise ValidationError(
                    _('positions: give each paid position its share, e.g. {"head": "1", "deputy": "0.6"}.')
                )
            for name in shares:
                if name not in positions:
                    raise ValidationError(_("positions: %(name)s is not a position.") % {"name": name})
                _number(shares, name, "positions")
        self.check()
        self.check_main_figures()
        for key in ("conditions", "full_share_if"):
            for index, condition in enumerate(params.get(key, [])):
                if condition.get("positions") and self.level() != SubjectKind.STAFF:
                    raise ValidationError(
                        _("%(key)s[%(index)s].positions: only a rule paying staff can bind a condition to positions.")
                        % {"key": key, "index": index}
                    )

    def check_main_figures(self) -> None:
        """Refuse a main figure with one value for everyone: it lists no subjects, so the rule
        would pay nobody without a word (such figures belong in conditions or bars)."""
        for key in self.main_figures:
            if same_for_everyone(self.params.get(key)):
                raise ValidationError(
                    _(
                        "%(key)s: this figure has one value for everyone (a constant, one unit's figure or "
                        "working days), so the rule would pay nobody; pay on a figure of each subject and "
                        "put this one in conditions."
                    )
                    % {"key": key}
                )

    def check(self) -> None:  # pragma: no cover - every kind overrides
        raise NotImplementedError

    # --- computation --------------------------------------------------------------------
    def level(self) -> int:
        raise NotImplementedError

    def eligible(self, window: Window, subject_ids) -> set[int]:
        """Subjects meeting every condition and the participant filter."""
        eligible = meeting(window.book, self.params.get("conditions", []), subject_ids)
        participants = self.params.get("participants") or {}
        if participants and self.level() == SubjectKind.UNIT:
            units = Unit.objects.all()
            if "unit_category" in participants:
                units = units.filter(category=participants["unit_category"])
            if "unit_kinds" in participants:
                units = units.filter(kind__in=participants["unit_kinds"])
            if "unit_codes" in participants:
                units = units.filter(code__in=participants["unit_codes"])
            eligible = set(filter_ids(units.values_list("pk", flat=True), "id", eligible))
        return eligible

    def iter_results(self, window: Window) -> Iterator[tuple[int, Result]]:
        """(subject id, what it earned) for every subject earning something, one by one: a run over
        500,000 staff must not hold 500,000 results at once (``rewards.calculate`` streams them)."""
        raise NotImplementedError

    def results(self, window: Window) -> dict[int, Result]:
        """``iter_results`` as a dict (a later result of the same subject replaces an earlier one)."""
        return dict(self.iter_results(window))

    def iter_shared_results(self, window: Window) -> Iterator[tuple[int, Result]]:
        """``iter_results`` with the others' share applied: subjects failing a ``full_share_if``
        condition (e.g. not rank 1 of the month) get ``others_share`` of their result. The
        conditions are checked a chunk of subjects at a time (their figures are read once)."""
        others = _number(self.params, "others_share", "others_share", required=False, default=Decimal(1))
        if others == 1 or not self.params.get("full_share_if"):
            yield from self.iter_results(window)
            return
        note = _("(others' share)")
        results = self.iter_results(window)
        while chunk := list(itertools.islice(results, SHARE_CHUNK)):
            full = meeting(window.book, self.params["full_share_if"], [sid for sid, _result in chunk])
            for sid, result in chunk:
                if sid not in full:
                    result = replace(
                        result, amount=result.amount * others, formula=f"{result.formula} × {_fmt(others)} {note}"
                    )
                yield sid, result

    def shared_results(self, window: Window) -> dict[int, Result]:
        return dict(self.iter_shared_results(window))

    def entitlements(self, window: Window) -> list[Entitlement]:
        """``iter_entitlements`` as a list."""
        return list(self.iter_entitlements(window))

    def iter_entitlements(self, window: Window) -> Iterator[Entitlement]:
        """What each payee is owed as of ``window.as_of``: results handed to the beneficiaries, one
        by one (results of units are gathered first when they are handed to the units' staff)."""
        share = _number(self.params, "share", "share", required=False, default=Decimal(1))
        award, value = (
            self.params.get("award", ""),
            _number(self.params, "value", "value", required=False, default=ZERO),
        )
        level = self.level()
        beneficiary = self.params.get("beneficiary", "self" if level == SubjectKind.STAFF else "unit")

        def entitle(kind, pid, result: Result, part: Decimal = share, unit_id: int | None = None) -> Entitlement:
            formula = result.formula + (f" × {_fmt(part)}" if part != 1 else "")
            return Entitlement(
                kind,
                pid,
                result.amount * part,
                result.figures,
                formula,
                result.award or award,
                result.value or value,
                self.penalty,
                unit_id=unit_id,
            )

        if beneficiary in ("unit", "self"):
            for sid, result in self.iter_shared_results(window):
                yield entitle(level, sid, result)
            return

        results = self.shared_results(window)
        assignments = assignments_on(window.as_of)
        if beneficiary == "positions":
            # Named roles with an amount each (e.g. 500 / 300 / 200): the share per position.
            parts = {name: Decimal(str(part)) * share for name, part in self.params["positions"].items()}
            for staff_id, unit_id, position in filter_ids(
                assignments.filter(position__in=parts).values_list("staff_id", "unit_id", "position"),
                "unit_id",
                results,
            ):
                yield entitle(SubjectKind.STAFF, staff_id, results[unit_id], parts[position], unit_id)
            return
        if beneficiary == "head":
            assignments = assignments.filter(position=Position.HEAD)
        elif beneficiary == "deputies":
            assignments = assignments.filter(position=Position.DEPUTY)
        else:
            assignments = assignments.exclude(position__in=self.params.get("excluded_positions", []))
        for staff_id, unit_id in filter_ids(
            assignments.values_list("staff_id", "unit_id"), "unit_id", results
        ):
            yield entitle(SubjectKind.STAFF, staff_id, results[unit_id], unit_id=unit_id)
