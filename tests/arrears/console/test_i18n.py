"""Every string the console shows exists in Simplified Chinese, and amounts and times are
written the way the locale and the bank's time zone write them."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from babel.messages.extract import extract_from_dir

from arrears.console.i18n import LOCALE_DIR, Formats, catalog_files, language_of, translations

CONSOLE = Path(__file__).resolve().parents[3] / "arrears" / "console"
_METHODS = [("templates/**.html", "jinja2"), ("**.py", "python")]
_OPTIONS = {"templates/**.html": {"extensions": "jinja2.ext.i18n"}}


def _shown_messages() -> set[str]:
    """What the templates and the console's Python mark for translation: `_()` in
    templates, `N_()` in Python (translated where it is shown)."""
    found = extract_from_dir(
        CONSOLE, _METHODS, keywords={"_": None, "gettext": None, "N_": None},
        options_map=_OPTIONS,
    )  # fmt: skip
    return {message for _file, _line, message, _comments, _context in found if message}


def _catalog_ids() -> set[str]:
    from babel.messages.pofile import read_po

    ids: set[str] = set()
    for path in catalog_files("zh_CN"):
        with path.open("rb") as po:
            ids |= {str(m.id) for m in read_po(po) if m.id}
    return ids


def test_every_shown_string_has_a_chinese_translation() -> None:
    chinese = translations("zh_CN")
    missing = sorted(m for m in _shown_messages() if chinese.gettext(m) == m)
    assert missing == [], f"add these to a .po file under {LOCALE_DIR / 'zh_CN'}: {missing}"


def test_the_catalogs_hold_no_strings_nothing_shows() -> None:
    # Vocabulary shown from data (roles, stages, channels ...) is marked with N_ in Python
    # too, so it counts as shown.
    unused = sorted(_catalog_ids() - _shown_messages())
    assert unused == []


def test_the_language_follows_the_locale() -> None:
    assert language_of("zh_CN") == "zh_CN"
    assert language_of("zh") == "zh_CN"
    assert language_of("en_US") == "en"
    assert language_of(None) == "en"


def test_amounts_are_written_as_the_locale_writes_them() -> None:
    chinese = Formats("zh_CN", "CNY", "Asia/Shanghai")
    american = Formats("en_US", "USD", "America/New_York")
    assert chinese.money(Decimal("12345.5")) == "¥12,345.50"
    assert american.money(Decimal("12345.5")) == "$12,345.50"
    assert chinese.money(Decimal("0.05"), currency=False) == "0.05"


def test_times_are_shown_in_the_banks_zone() -> None:
    late_utc = datetime(2026, 3, 1, 17, 30, tzinfo=UTC)  # 01:30 on 2 March in Shanghai
    assert "2026年3月2日" in Formats("zh_CN", "CNY", "Asia/Shanghai").day(late_utc)
    assert "Mar 1, 2026" in Formats("en_US", "USD", "America/New_York").day(late_utc)
