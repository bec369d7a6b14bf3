"""The console's two languages: English (the message ids themselves) and Simplified Chinese.

Catalogs are gettext `.po` files under `locale/zh_CN/`, one per page or concern, so that
who adds a page adds its strings beside it. They are read with Babel when the console
starts (no compiled `.mo` files in the repository to drift from their sources) and merged
into one catalog per language. `tests/arrears/console/test_i18n.py` checks that every
string the templates and pages mark for translation has a Chinese translation.

Amounts and dates are written the way the locale writes them (Babel's CLDR data): the
profile's `money.locale` says which locale a profile works in, and a user may choose
another language for themselves.
"""

from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Literal

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal
from babel.support import NullTranslations, Translations

from domain.localtime import zone

Language = Literal["en", "zh_CN"]
LANGUAGES: tuple[Language, ...] = ("en", "zh_CN")
LOCALE_DIR = Path(__file__).parent / "locale"


def N_(message: str) -> str:
    """Marks a message for translation where it is written (Python), translated where it
    is shown (a template's `_()`): the catalog check finds it by this name."""
    return message


def language_of(locale: str | None) -> Language:
    """The console language for a locale or a user's choice: Chinese for any `zh*`."""
    return "zh_CN" if (locale or "").lower().startswith("zh") else "en"


def catalog_files(language: Language) -> list[Path]:
    return sorted((LOCALE_DIR / language).glob("*.po"))


@cache
def translations(language: Language) -> NullTranslations:
    """All of a language's `.po` files merged into one gettext translations object."""
    if language == "en":
        return NullTranslations()
    merged = Catalog(locale=language)
    for path in catalog_files(language):
        with path.open("rb") as po:
            for message in read_po(po, locale=language):
                if message.id and message.string:
                    merged.add(message.id, message.string)
    buffer = io.BytesIO()
    write_mo(buffer, merged)
    buffer.seek(0)
    return Translations(buffer)


class Formats:
    """Amounts, dates and times as a locale writes them, times in the bank's zone."""

    def __init__(self, locale: str, currency: str, bank_timezone: str) -> None:
        self.locale = Locale.parse(locale)
        self.currency = currency
        self.zone = zone(bank_timezone)

    def money(self, amount: Decimal | None, *, currency: bool = True) -> str:
        if amount is None:
            return ""
        if currency:
            return format_currency(amount, self.currency, locale=self.locale)
        return format_decimal(amount, format="#,##0.00", locale=self.locale)

    def number(self, value: int | Decimal | None) -> str:
        return "" if value is None else format_decimal(value, locale=self.locale)

    def day(self, value: date | datetime | None) -> str:
        if value is None:
            return ""
        if isinstance(value, datetime):
            value = value.astimezone(self.zone).date()
        return format_date(value, format="medium", locale=self.locale)

    def when(self, value: datetime | None) -> str:
        """A moment in the bank's time zone (what the people at the bank live by)."""
        if value is None:
            return ""
        return format_datetime(value, format="medium", tzinfo=self.zone, locale=self.locale)
