"""The pages' foundation without a browser: the vendored htmx is the pinned file, every catalogue
has every message, figures are formatted per locale half-up (P4), the locale is negotiated."""

import hashlib
import re
from datetime import date
from decimal import Decimal

import pytest
from babel.messages.extract import extract_from_dir

from partner_portal.web import STATIC, formatting, i18n
from partner_portal.web.rendering import TEMPLATES

# The sha256 of htmx.org@2.0.4's dist/htmx.min.js as `npm pack htmx.org@2.0.4` delivers it.
HTMX_SHA256 = "e209dda5c8235479f3166defc7750e1dbcd5a5c1808b7792fc2e6733768fb447"


def test_the_vendored_htmx_is_the_pinned_file_with_its_licence() -> None:
    vendored = (STATIC / "htmx-2.0.4.min.js").read_bytes()
    assert hashlib.sha256(vendored).hexdigest() == HTMX_SHA256
    assert f"{HTMX_SHA256}  htmx-2.0.4.min.js" in (STATIC / "SHA256SUMS").read_text()
    assert "Zero-Clause BSD" in (STATIC / "htmx-2.0.4.LICENSE").read_text()


def test_no_page_or_asset_names_another_host() -> None:
    """No CDN, font or script from elsewhere: only this origin's paths."""
    sources = [*TEMPLATES.glob("*.html"), STATIC / "portal.css", STATIC / "portal.js"]
    for path in sources:
        found = re.findall(r"(?:src|href)=\"(?:https?:)?//", path.read_text())
        assert not found, f"{path.name} loads from another host"


def _template_messages() -> set[str]:
    return {
        str(message)
        for _, _, message, _, _ in extract_from_dir(
            str(TEMPLATES),
            method_map=[("**.html", "jinja2")],
            options_map={"**.html": {"extensions": "jinja2.ext.i18n"}},
        )
    }


@pytest.mark.parametrize("locale", i18n.LOCALES)
def test_each_catalogue_has_every_message_of_the_pages(locale: str) -> None:
    strings = i18n.load(locale).strings
    missing = sorted(_template_messages() - strings.keys())
    assert not missing, f"{locale} lacks {len(missing)} messages: {missing[:5]}"


@pytest.mark.parametrize("locale", i18n.LOCALES)
def test_translations_keep_their_placeholders(locale: str) -> None:
    for message, translated in i18n.load(locale).strings.items():
        assert sorted(re.findall(r"%\(\w+\)s", message)) == sorted(
            re.findall(r"%\(\w+\)s", translated)
        ), (locale, message)


@pytest.mark.parametrize(
    ("locale", "points", "money", "when"),
    [
        ("en", "1,234.57", "$1,000.01", "Mar 1, 2026"),
        ("it", "1.234,57", "1.000,01\xa0USD", "1 mar 2026"),
        ("da", "1.234,57", "1.000,01\xa0USD", "1. mar. 2026"),
        ("de", "1.234,57", "1.000,01\xa0$", "01.03.2026"),
        ("sv", "1\xa0234,57", "1\xa0000,01\xa0US$", "1 mars 2026"),
    ],
)
def test_figures_are_formatted_per_locale_half_up_to_two_places(
    locale: str, points: str, money: str, when: str
) -> None:
    """P4: 1234.565 and 1000.005 round half-up (half-even would give .56 and .00)."""
    assert formatting.number(Decimal("1234.565"), locale) == points
    assert formatting.money(Decimal("1000.005"), "USD", locale) == money
    assert formatting.day(date(2026, 3, 1), locale) == when


def test_the_switcher_wins_then_the_browser_preference_then_english() -> None:
    assert i18n.negotiate("sv", "de-DE,de;q=0.9") == "sv"
    assert i18n.negotiate(None, "fr-FR,fr;q=0.9,it;q=0.8,de;q=0.5") == "it"
    assert i18n.negotiate("xx", "fr") == "en"
    assert i18n.negotiate(None, None) == "en"
