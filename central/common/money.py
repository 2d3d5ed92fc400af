"""Money: Decimal amounts with an ISO 4217 currency, never float."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from central.common.errors import InvalidInput

# ISO 4217 minor units of the currencies a cross-border shop meets most; others default to 2.
MINOR_UNITS = {
    "JPY": 0,
    "KRW": 0,
    "VND": 0,
    "CLP": 0,
    "ISK": 0,
    "KWD": 3,
    "BHD": 3,
    "JOD": 3,
    "OMR": 3,
    "TND": 3,
}
KNOWN = {
    "AED",
    "AUD",
    "BHD",
    "BRL",
    "CAD",
    "CHF",
    "CLP",
    "CNY",
    "CZK",
    "DKK",
    "EUR",
    "GBP",
    "HKD",
    "HUF",
    "IDR",
    "ILS",
    "INR",
    "ISK",
    "JOD",
    "JPY",
    "KRW",
    "KWD",
    "MXN",
    "MYR",
    "NOK",
    "NZD",
    "OMR",
    "PHP",
    "PLN",
    "RUB",
    "SAR",
    "SEK",
    "SGD",
    "THB",
    "TND",
    "TRY",
    "TWD",
    "USD",
    "VND",
    "ZAR",
}


@dataclass(frozen=True)
class Money:
    """An amount in one currency, rounded to the currency's minor unit."""

    amount: Decimal
    currency: str

    @classmethod
    def of(cls, amount: Decimal | str | int, currency: str) -> Money:
        """Parse and round an amount; InvalidInput for a bad amount or currency."""
        code = currency.upper()
        if code not in KNOWN:
            raise InvalidInput(f"unknown ISO 4217 currency {currency!r}")
        if isinstance(amount, float):
            raise InvalidInput("money must not be a float; send a decimal string")
        try:
            value = Decimal(str(amount))
        except InvalidOperation as exc:
            raise InvalidInput(f"not an amount: {amount!r}") from exc
        if not value.is_finite():
            raise InvalidInput(f"not an amount: {amount!r}")
        exponent = Decimal(1).scaleb(-MINOR_UNITS.get(code, 2))
        return cls(value.quantize(exponent, rounding=ROUND_HALF_EVEN), code)

    def __add__(self, other: Money) -> Money:
        if other.currency != self.currency:
            raise InvalidInput(f"cannot add {other.currency} to {self.currency}")
        return Money(self.amount + other.amount, self.currency)

    def times(self, qty: int) -> Money:
        """This amount `qty` times."""
        return Money.of(self.amount * qty, self.currency)

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"
