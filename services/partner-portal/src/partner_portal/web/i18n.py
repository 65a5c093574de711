"""The five languages of the program's documents, read from Babel catalogues (`locales/`).

The locale comes from the switcher's cookie, else `Accept-Language`, else English. Catalogues
are read from their `.po` source at start (no compiled files to keep in step); a message a
catalogue lacks is a test failure (tests/web/test_catalogues.py), not a silent English fallback.
"""

from dataclasses import dataclass
from pathlib import Path

from babel import Locale
from babel.messages.pofile import read_po

LOCALES = ("en", "it", "da", "de", "sv")
DEFAULT = "en"
LOCALE_COOKIE = "portal_lang"
CATALOGUES = Path(__file__).parent / "locales"


def catalogue_path(locale: str) -> Path:
    return CATALOGUES / locale / "LC_MESSAGES" / "messages.po"


@dataclass(frozen=True, slots=True)
class Messages:
    locale: str
    strings: dict[str, str]

    def gettext(self, message: str, **variables: object) -> str:
        """The translation, with `%(name)s` placeholders filled (the template escapes the whole)."""
        found = self.strings.get(message) or message
        return found % variables if variables else found


def load(locale: str) -> Messages:
    with catalogue_path(locale).open("rb") as source:
        catalogue = read_po(source, locale=locale)
    strings = {
        str(message.id): str(message.string)
        for message in catalogue
        if message.id and isinstance(message.id, str) and message.string
    }
    return Messages(locale, strings)


def negotiate(cookie: str | None, accept_language: str | None) -> str:
    """The switcher's choice first, then the browser's preference in its order, then English."""
    if cookie in LOCALES:
        return cookie
    wanted: list[tuple[float, str]] = []
    for part in (accept_language or "").split(","):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        if tag:
            wanted.append((quality, tag.strip()))
    for _, tag in sorted(wanted, key=lambda found: -found[0]):
        language = tag.replace("_", "-").split("-")[0].lower()
        if language in LOCALES:
            return language
    return DEFAULT


def language_name(locale: str) -> str:
    """Each language named in itself, as a switcher shows it."""
    return Locale.parse(locale).get_display_name(locale) or locale
