"""Turning one cell into a typed value, or a ValueError whose message the user can act on.

Interpretations (shown in docs/imports.md): thousands separators and a leading ¥ are dropped;
full-width digits are read as digits; "97%" is the fraction 0.97; dates are accepted as a date
cell, 2027-01-31, 2027/1/31, 2027.1.31, 20270131 or 2027年1月31日.
"""

from __future__ import annotations

import datetime
import functools
import re
import unicodedata
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

_DATE_PATTERNS = (
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)
MAX_DIGITS_BEFORE_POINT = 16  # Fact.value is DECIMAL(20, 4)


def is_empty(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def parse_text(value) -> str:
    if is_empty(value):
        return ""
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return str(value.to_integral_value())
    return unicodedata.normalize("NFKC", str(value)).strip()


def parse_code(value) -> str:
    """A unit code or employee number: text, with Excel's 1001.0 read back as 1001."""
    if isinstance(value, bool):
        raise ValueError(_("expected a code, got %(value)s") % {"value": value})
    if isinstance(value, int):
        return str(value)
    return parse_text(value)


def parse_date(value) -> datetime.date:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    return _date_from_text(parse_text(value))


@functools.lru_cache(maxsize=1024)
def _date_from_text(text: str) -> datetime.date:
    # Cached: a file repeats the same few dates in every row (a failure is not cached).
    for pattern in _DATE_PATTERNS:
        match = pattern.match(text)
        if match:
            try:
                return datetime.date(*(int(part) for part in match.groups()))
            except ValueError:
                break
    raise ValueError(_("“%(value)s” is not a date (write 2027-01-31)") % {"value": text})


def parse_decimal(value, *, allow_percent: bool = False) -> Decimal:
    """A number as Decimal. A trailing % divides by 100 when ``allow_percent``."""
    if isinstance(value, bool):
        raise ValueError(_("expected a number, got %(value)s") % {"value": value})
    if isinstance(value, Decimal | int):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value))
    elif isinstance(value, datetime.date):
        raise ValueError(_("expected a number, got the date %(value)s") % {"value": value})
    else:
        text = unicodedata.normalize("NFKC", str(value)).strip().replace(",", "").replace("¥", "").replace(" ", "")
        percent = text.endswith("%")
        if percent:
            if not allow_percent:
                raise ValueError(_("“%(value)s”: a percentage is not allowed here") % {"value": value})
            text = text[:-1]
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise ValueError(_("“%(value)s” is not a number") % {"value": value}) from None
        if percent:
            number = number / 100
    if not number.is_finite():
        raise ValueError(_("“%(value)s” is not a number") % {"value": value})
    if number.adjusted() >= MAX_DIGITS_BEFORE_POINT:
        raise ValueError(_("%(value)s is too large") % {"value": value})
    return number
