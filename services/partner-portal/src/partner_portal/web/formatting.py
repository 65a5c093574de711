"""Numbers, money and dates per locale. Figures are rounded half-up to 2 places (P4) once, here,
before Babel lays them out, so Babel never rounds (it would round half-even)."""

from datetime import date, datetime
from decimal import Decimal

from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, format_decimal, format_percent

from keel.money import display

TWO_PLACES = "#,##0.00"


def number(value: Decimal | int | str, locale: str) -> str:
    """A count stays whole; a figure (points, shares) shows 2 places, half-up (P4)."""
    if isinstance(value, int):
        return format_decimal(value, locale=locale)
    return format_decimal(display(Decimal(value)), format=TWO_PLACES, locale=locale)


def money(value: Decimal | str, currency: str, locale: str) -> str:
    return format_currency(display(Decimal(value)), currency, locale=locale, currency_digits=False)


def percent(value: Decimal | str, locale: str) -> str:
    """`value` in percent (90 is 90 %), half-up to 2 places."""
    return format_percent(display(Decimal(value)) / 100, format="#,##0.##%", locale=locale)


def day(value: date | datetime | str, locale: str) -> str:
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    if isinstance(value, datetime):
        return format_datetime(value, format="medium", locale=locale)
    return format_date(value, format="medium", locale=locale)
