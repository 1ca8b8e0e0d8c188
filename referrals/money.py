"""Money: a Decimal amount with an ISO 4217 currency code. Never a float.

Totals are kept per currency; amounts in different currencies are never added.
"""

from __future__ import annotations

import re
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


_GROUPED_COMMA = re.compile(r"^\d{1,3}(,\d{3})+(\.\d+)?$")  # 1,234,567.89
_GROUPED_DOT = re.compile(r"^\d{1,3}(\.\d{3})+(,\d{1,2})?$")  # 1.234.567,89
_DECIMAL_COMMA = re.compile(r"^\d+,\d{1,2}$")  # 45,50


def _normalise_separators(text: str) -> str:
    """Read '1,234.50' and European '1.234,50' / '45,50' alike; refuse what is ambiguous."""
    if "," not in text:
        return text
    if _GROUPED_COMMA.match(text):
        return text.replace(",", "")
    if _GROUPED_DOT.match(text) or _DECIMAL_COMMA.match(text):
        return text.replace(".", "").replace(",", ".")
    raise ValueError("ambiguous separators")


def parse_amount(text: str) -> Decimal:
    """Parse '1,234.50', '1.234,50', '$1234.5', '(12.00)' or '-12' into a Decimal with 2 places."""
    cleaned = text.strip().replace(" ", "").replace("\u00a0", "")
    for symbol in ("$", "€", "£", "¥", "₹"):
        cleaned = cleaned.replace(symbol, "")
    negative = cleaned.startswith("(") and cleaned.endswith(")")
    cleaned = cleaned.strip("()")
    if cleaned.startswith("-"):
        negative, cleaned = not negative, cleaned[1:]
    try:
        value = Decimal(_normalise_separators(cleaned))
        if not value.is_finite():
            raise InvalidOperation
        if abs(value) > MAX_AMOUNT * 1000:
            raise ValueError(f"“{text}” is too large")
        value = value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError) as exc:
        if "too large" in str(exc):
            raise
        raise ValueError(f"“{text}” is not an amount") from exc
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
