"""The one rounding function for money: Decimal, half-up to the fen, applied once at the end."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

FEN = Decimal("0.01")


def to_decimal(value) -> Decimal:
    """``value`` as a Decimal without passing through float (ints, strings, Decimals)."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        # A float here is a bug upstream; str() keeps what the user typed rather than binary noise.
        return Decimal(str(value))
    return Decimal(value)


def to_fen(value) -> Decimal:
    """``value`` rounded half-up to 0.01 yuan (0.005 → 0.01, -0.005 → -0.01)."""
    return to_decimal(value).quantize(FEN, rounding=ROUND_HALF_UP)
