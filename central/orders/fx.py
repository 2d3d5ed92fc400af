"""Reference exchange rates to USD for risk scoring (the finance module will supply live ones)."""

from __future__ import annotations

from decimal import Decimal

from central.common.money import Money

# Units of USD per unit of the currency; rough reference values, only used to rank order value.
USD_PER_UNIT = {
    "USD": Decimal("1"),
    "EUR": Decimal("1.08"),
    "GBP": Decimal("1.27"),
    "CNY": Decimal("0.14"),
    "JPY": Decimal("0.0067"),
    "HKD": Decimal("0.128"),
    "CAD": Decimal("0.73"),
    "AUD": Decimal("0.66"),
    "SGD": Decimal("0.74"),
    "KRW": Decimal("0.00073"),
    "CHF": Decimal("1.13"),
    "SEK": Decimal("0.095"),
    "PLN": Decimal("0.25"),
    "BRL": Decimal("0.18"),
    "MXN": Decimal("0.055"),
    "INR": Decimal("0.012"),
}


def to_usd(money: Money) -> Decimal | None:
    """Approximate value in USD; None for a currency without a reference rate."""
    rate = USD_PER_UNIT.get(money.currency)
    return None if rate is None else money.amount * rate
