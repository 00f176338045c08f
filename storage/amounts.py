"""Amount arithmetic the data layer needs to total a proposal without importing the domain."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal


def line_total(volume_milli: int, unit_price: int) -> int:
    """Volume times price in whole Rupiah, half a Rupiah rounded up."""
    exact = Decimal(volume_milli) * Decimal(unit_price) / 1000
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))
