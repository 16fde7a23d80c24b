"""The closed set of rule kinds. Each validates its parameters, gives a SQL expression and explains.

A kind's ``points_sql(sql, col)`` returns an SQL expression over the columns ``col`` names for the
metric's figure (actual, target, completion, and the best for relative-to-best); parameters are validated
``Decimal`` values written as literals, never user text. ``explain()`` renders the stored numbers
of one participant back into a sentence. See docs/scoring.md for the edge cases (target 0,
missing figures, negative increases).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from scoring.models import RuleKind

ON_CHOICES = ("figure", "completion")


class SqlDialect:
    """The few spellings that differ between SQLite and PostgreSQL."""

    def __init__(self, vendor: str):
        self.vendor = vendor
        # SQLite divides integers as integers; REAL keeps fractions. PostgreSQL keeps NUMERIC exact.
        self.number_type = "REAL" if vendor == "sqlite" else "NUMERIC"

    def lit(self, value: Decimal | int) -> str:
        return f"CAST({format(Decimal(value), 'f')} AS {self.number_type})"

    def num(self, expr: str) -> str:
        return f"CAST({expr} AS {self.number_type})"

    def days_between(self, later: str, earlier: str) -> str:
        """Whole days from ``earlier`` to ``later`` (two date expressions)."""
        if self.vendor == "sqlite":
            return f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"
        return f"(CAST({later} AS DATE) - CAST({earlier} AS DATE))"

    def div(self, a: str, b: str) -> str:
        return f"({self.num(a)} / NULLIF({self.num(b)}, 0))"

    # --- score sheets: one row per participant, a figure per metric and points per rule in arrays.

    def figure(self, expr: str) -> str:
        """A figure as stored (6 decimals, as a NUMERIC(24, 6) column rounds it; SQLite keeps REAL)."""
        return f"CAST({expr} AS NUMERIC(24, 6))" if self.vendor == "postgresql" else expr

    def points(self, expr: str) -> str:
        """Points as stored (4 decimals; SQLite keeps REAL)."""
        return f"CAST({expr} AS NUMERIC(14, 4))" if self.vendor == "postgresql" else expr

    def array(self, exprs: list[str]) -> str:
        """An array of numbers: NUMERIC[] on PostgreSQL, a JSON array on SQLite."""
        if self.vendor == "postgresql":
            return f"CAST(ARRAY[{', '.join(exprs)}] AS NUMERIC[])"
        if len(exprs) <= 100:
            return f"json_array({', '.join(exprs)})"
        # SQLite's functions take at most 127 arguments: join the insides of smaller arrays.
        chunks = [f"json_array({', '.join(exprs[i:i + 100])})" for i in range(0, len(exprs), 100)]
        return "('[' || " + " || ',' || ".join(f"substr({c}, 2, length({c}) - 2)" for c in chunks) + " || ']')"

    def at(self, array: str, position: int) -> str:
        """Element ``position`` (1-based) of an array made by ``array()``."""
        if self.vendor == "postgresql":
            return f"{array}[{int(position)}]"
        return f"json_extract({array}, '$[{int(position) - 1}]')"

    def date(self, day) -> str:
        """A date literal (an ISO date is never user text)."""
        return f"DATE '{day.isoformat()}'" if self.vendor == "postgresql" else f"'{day.isoformat()}'"

    @property
    def fence(self) -> str:
        """Ends a subquery that must not be merged into its parent (each expression computed once)."""
        return "OFFSET 0" if self.vendor == "postgresql" else "LIMIT -1 OFFSET 0"

    def clamp(self, expr: str, low: Decimal | None, high: Decimal | None) -> str:
        out = expr
        if low is not None:
            out = f"(CASE WHEN {out} < {self.lit(low)} THEN {self.lit(low)} ELSE {out} END)"
        if high is not None:
            out = f"(CASE WHEN {out} > {self.lit(high)} THEN {self.lit(high)} ELSE {out} END)"
        return out


def _decimal(params: dict, key: str, default=None, *, required=False) -> Decimal | None:
    if key not in params or params[key] in (None, ""):
        if required:
            raise ValidationError({"params": _("The parameter '%(key)s' is required.") % {"key": key}})
        return None if default is None else Decimal(default)
    try:
        value = Decimal(str(params[key]))
    except (InvalidOperation, ValueError):
        raise ValidationError({"params": _("The parameter '%(key)s' must be a number.") % {"key": key}}) from None
    if not value.is_finite():
        raise ValidationError({"params": _("The parameter '%(key)s' must be a number.") % {"key": key}})
    return value


def _choice(params: dict, key: str, choices: tuple, default: str) -> str:
    value = params.get(key, default)
    if value not in choices:
        raise ValidationError(
            {"params": _("The parameter '%(key)s' must be one of: %(choices)s.") % {"key": key, "choices": ", ".join(choices)}}
        )
    return value


def _check_known(params: dict, known: set[str]) -> None:
    if not isinstance(params, dict):
        raise ValidationError({"params": _("The parameters must be a mapping.")})
    unknown = sorted(set(params) - known)
    if unknown:
        raise ValidationError({"params": _("Unknown parameter(s): %(names)s.") % {"names": ", ".join(unknown)}})


def fmt(value) -> str:
    if value is None:
        return "—"
    value = Decimal(value)
    return format(value.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP).normalize(), "f")


def pct(value) -> str:
    if value is None:
        return "—"
    return format((Decimal(value) * 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP), "f") + "%"


@dataclass(frozen=True)
class Cols:
    """The SQL expressions a rule's points are computed from (the engine names one metric's columns)."""

    actual: str
    target: str
    completion: str
    best: str = "NULL"


@dataclass
class Numbers:
    """The stored numbers behind one participant's points for one rule."""

    actual: Decimal | None
    target: Decimal | None
    completion: Decimal | None
    reference: Decimal | None
    points: Decimal


class Kind:
    code: str = ""
    needs_metric = True
    known: set[str] = set()

    def __init__(self, rule):
        self.rule = rule
        self.points = Decimal(rule.points)
        self.params = self.validate(rule.params or {})

    @classmethod
    def validate(cls, params: dict) -> dict:
        _check_known(params, cls.known)
        return dict(params)

    def value_sql(self, on: str, col: Cols) -> str:
        return col.completion if on == "completion" else col.actual

    def points_sql(self, sql: SqlDialect, col: Cols) -> str:
        raise NotImplementedError

    def explain(self, n: Numbers) -> str:
        raise NotImplementedError


class Completion(Kind):
    """points × clamp(actual ÷ target, floor, cap); no target or no figure scores 0."""

    code = RuleKind.COMPLETION
    known = {"floor", "cap", "zero_below"}

    @classmethod
    def validate(cls, params):
        _check_known(params, cls.known)
        floor = _decimal(params, "floor", 0)
        cap = _decimal(params, "cap", 1)
        zero_below = _decimal(params, "zero_below")
        if cap < floor:
            raise ValidationError({"params": _("The cap must not be below the floor.")})
        return {"floor": floor, "cap": cap, "zero_below": zero_below}

    def points_sql(self, sql, col):
        p = self.params
        rate = sql.clamp(col.completion, p["floor"], p["cap"])
        expr = f"{sql.lit(self.points)} * {rate}"
        if p["zero_below"] is not None:
            expr = f"CASE WHEN {col.completion} < {sql.lit(p['zero_below'])} THEN 0 ELSE {expr} END"
        return f"(CASE WHEN {col.completion} IS NULL THEN 0 ELSE {expr} END)"

    def explain(self, n):
        if n.completion is None:
            reason = _("no target") if not n.target else _("no figure yet")
            return _("%(points)s points: %(reason)s.") % {"points": fmt(n.points), "reason": reason}
        return _(
            "%(weight)s × completion %(rate)s (actual %(actual)s ÷ target %(target)s, counted between %(floor)s and %(cap)s) = %(points)s"
        ) % {
            "weight": fmt(self.points), "rate": pct(n.completion), "actual": fmt(n.actual), "target": fmt(n.target),
            "floor": pct(self.params["floor"]), "cap": pct(self.params["cap"]), "points": fmt(n.points),
        }


class Threshold(Kind):
    """Full points when the figure (or completion) reaches the bar, else ``else_points`` (0)."""

    code = RuleKind.THRESHOLD
    known = {"on", "bar", "else_points"}

    @classmethod
    def validate(cls, params):
        _check_known(params, cls.known)
        return {
            "on": _choice(params, "on", ON_CHOICES, "figure"),
            "bar": _decimal(params, "bar", required=True),
            "else_points": _decimal(params, "else_points", 0),
        }

    def points_sql(self, sql, col):
        value = self.value_sql(self.params["on"], col)
        # No figure (or no target, on completion) scores 0, not the lower figure: nothing was measured.
        return (
            f"(CASE WHEN {value} IS NULL THEN 0 WHEN {value} >= {sql.lit(self.params['bar'])} THEN {sql.lit(self.points)} "
            f"ELSE {sql.lit(self.params['else_points'])} END)"
        )

    def explain(self, n):
        value = n.completion if self.params["on"] == "completion" else n.actual
        shown = pct(value) if self.params["on"] == "completion" else fmt(value)
        bar = pct(self.params["bar"]) if self.params["on"] == "completion" else fmt(self.params["bar"])
        if value is None:
            reason = _("no target") if self.params["on"] == "completion" and not n.target else _("no figure yet")
            return _("%(points)s points: %(reason)s.") % {"points": fmt(n.points), "reason": reason}
        # Stored figures are rounded to 6 decimals; the points say on which side of the bar the exact one fell.
        reached = n.points == self.points if self.points != self.params["else_points"] else value >= self.params["bar"]
        return _("%(value)s %(cmp)s bar %(bar)s: %(points)s points") % {
            "value": shown, "cmp": "≥" if reached else "<", "bar": bar, "points": fmt(n.points),
        }


class RelativeToBest(Kind):
    """points × own ÷ best (in the group, or overall); negatives floored at 0 unless allowed."""

    code = RuleKind.RELATIVE_TO_BEST
    known = {"on", "allow_negative", "cap"}

    @classmethod
    def validate(cls, params):
        _check_known(params, cls.known)
        allow = params.get("allow_negative", False)
        if not isinstance(allow, bool):
            raise ValidationError({"params": _("The parameter 'allow_negative' must be true or false.")})
        return {"on": _choice(params, "on", ON_CHOICES, "figure"), "allow_negative": allow, "cap": _decimal(params, "cap")}

    def points_sql(self, sql, col):
        value = self.value_sql(self.params["on"], col)
        share = sql.div(value, col.best)
        if not self.params["allow_negative"]:
            share = sql.clamp(share, Decimal(0), None)
        if self.params["cap"] is not None:
            share = sql.clamp(share, None, self.params["cap"])
        return f"(CASE WHEN {col.best} IS NULL OR {col.best} <= 0 OR {value} IS NULL THEN 0 ELSE {sql.lit(self.points)} * {share} END)"

    def explain(self, n):
        value = n.completion if self.params["on"] == "completion" else n.actual
        show = pct if self.params["on"] == "completion" else fmt
        if value is None or not n.reference or n.reference <= 0:
            return _("%(points)s points: no figure or no positive best.") % {"points": fmt(n.points)}
        return _("%(weight)s ÷ best %(best)s × own %(own)s = %(points)s") % {
            "weight": fmt(self.points), "best": show(n.reference), "own": show(value), "points": fmt(n.points),
        }


class Bands(Kind):
    """The points of the highest band whose ``from`` the figure (or completion) reaches; else 0."""

    code = RuleKind.BANDS
    known = {"on", "bands"}

    @classmethod
    def validate(cls, params):
        _check_known(params, cls.known)
        raw = params.get("bands")
        if not isinstance(raw, list) or not raw:
            raise ValidationError({"params": _("'bands' must be a list of {from, points}.")})
        bands = []
        for index, band in enumerate(raw, start=1):
            if not isinstance(band, dict) or set(band) != {"from", "points"}:
                raise ValidationError({"params": _("Band %(n)s must have 'from' and 'points'.") % {"n": index}})
            bands.append((_decimal(band, "from", required=True), _decimal(band, "points", required=True)))
        starts = [b[0] for b in bands]
        if starts != sorted(starts) or len(set(starts)) != len(starts):
            raise ValidationError({"params": _("Bands must be in increasing order of 'from'.")})
        return {"on": _choice(params, "on", ON_CHOICES, "figure"), "bands": bands}

    def points_sql(self, sql, col):
        value = self.value_sql(self.params["on"], col)
        whens = " ".join(
            f"WHEN {value} >= {sql.lit(start)} THEN {sql.lit(points)}" for start, points in reversed(self.params["bands"])
        )
        return f"(CASE {whens} ELSE 0 END)"

    def explain(self, n):
        value = n.completion if self.params["on"] == "completion" else n.actual
        show = pct if self.params["on"] == "completion" else fmt
        return _("%(value)s falls in the band worth %(points)s points") % {"value": show(value), "points": fmt(n.points)}


class Bonus(Kind):
    """+points when the target is met (mode ``met``), or points × completion (``proportional``, capped)."""

    code = RuleKind.BONUS
    known = {"mode", "cap"}

    @classmethod
    def validate(cls, params):
        _check_known(params, cls.known)
        return {"mode": _choice(params, "mode", ("met", "proportional"), "met"), "cap": _decimal(params, "cap", 1)}

    def points_sql(self, sql, col):
        if self.params["mode"] == "met":
            return f"(CASE WHEN {col.completion} >= 1 THEN {sql.lit(self.points)} ELSE 0 END)"
        rate = sql.clamp(col.completion, Decimal(0), self.params["cap"])
        return f"(CASE WHEN {col.completion} IS NULL THEN 0 ELSE {sql.lit(self.points)} * {rate} END)"

    def explain(self, n):
        return _("bonus: completion %(rate)s → %(points)s points") % {"rate": pct(n.completion), "points": fmt(n.points)}


class Parts(Kind):
    """The sum of its parts (child rules); the parts' points must add up to this rule's points."""

    code = RuleKind.PARTS
    needs_metric = False
    known: set[str] = set()

    def points_sql(self, sql, col):  # computed by the engine as the sum of the parts
        return "0"

    def explain(self, n):
        return _("sum of the parts = %(points)s") % {"points": fmt(n.points)}


KINDS: dict[str, type[Kind]] = {k.code: k for k in (Completion, Threshold, RelativeToBest, Bands, Bonus, Parts)}


def rule_kind_for(rule) -> Kind:
    """The kind object of ``rule`` with validated parameters; ValidationError names 'kind' or 'params'."""
    try:
        kind = KINDS[rule.kind]
    except KeyError:
        raise ValidationError({"kind": _("Unknown rule kind '%(kind)s'.") % {"kind": rule.kind}}) from None
    return kind(rule)


def explain_monthly(rule, months: Decimal | None, points: Decimal) -> str:
    combine = rule.get_monthly_combine_display()
    return _("%(how)s over %(months)s month(s) = %(points)s points") % {
        "how": combine, "months": fmt(months), "points": fmt(points),
    }
