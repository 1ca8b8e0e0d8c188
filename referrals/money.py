"""Money: a Decimal amount with an ISO 4217 currency code. Never a float.

Totals are kept per currency; amounts in different currencies are never added.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

MAX_AMOUNT = Decimal("100000000")  # 100 million: anything above is a typo, not a deal
SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "CAD": "CA$", "AUD": "A$", "JPY": "¥", "INR": "₹"}
CURRENCY_CHOICES = [
    (c, c)
    for c in [
        "USD",
        "EUR",
        "GBP",
        "CAD",
        "AUD",
        "NZD",
        "CHF",
        "SEK",
        "NOK",
        "DKK",
        "JPY",
        "INR",
        "ZAR",
        "SGD",
    ]
]


def parse_amount(text: str) -> Decimal:
    """Parse '1,234.50', '$1234.5', '(12.00)' or '-12' into a Decimal with 2 places."""
    cleaned = text.strip().replace(",", "").replace(" ", "")
    for symbol in ("$", "€", "£", "¥", "₹"):
        cleaned = cleaned.replace(symbol, "")
    negative = cleaned.startswith("(") and cleaned.endswith(")")
    cleaned = cleaned.strip("()")
    try:
        value = Decimal(cleaned)
    except InvalidOperation as exc:
        raise ValueError(f"“{text}” is not an amount") from exc
    if not value.is_finite():
        raise ValueError(f"“{text}” is not an amount")
    value = value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return -value if negative else value


def format_money(amount: Decimal | None, currency: str) -> str:
    if amount is None:
        return ""
    symbol = SYMBOLS.get(currency)
    places = 0 if amount == amount.to_integral_value() else 2
    number = f"{amount:,.{places}f}"
    if symbol:
        return f"-{symbol}{number[1:]}" if number.startswith("-") else f"{symbol}{number}"
    return f"{number} {currency}"


def format_totals(totals: Iterable[tuple[str, Decimal]]) -> str:
    """'$12,400 + €300': one figure per currency, never summed across currencies."""
    parts = [format_money(amount, currency) for currency, amount in totals if amount]
    return " + ".join(parts) if parts else "0"
