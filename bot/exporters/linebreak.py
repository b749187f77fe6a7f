"""Line breaking for the PDF: left-aligned, by words, with hyphenation in the document's language.

A word that does not fit is hyphenated at a syllable boundary (Pyphen's patterns, the
ones LibreOffice uses) and the added hyphen is U+00AD, the soft hyphen: PDF readers
draw it as a hyphen, and a screen reader or a copy-paste knows it was added by the
line break (ISO 32000-1, 14.8.2.2.3). A word is never cut without a hyphen: words that
already contain one break after it; addresses and identifiers (e-mail, URLs,
`data_localization_region`) break only after "/", "_", "." or "@", where no hyphen is
added because it would change them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

import pyphen

SOFT_HYPHEN = "\u00ad"
# Hyphenate only when the line would otherwise end this far before the margin (a share of the width):
# ragged-right text needs fewer hyphens than justified text.
HYPHENATION_ZONE = 0.2
LETTERS = re.compile(r"[^\W\d_]{8,}")  # runs of letters long enough to hyphenate ("welche" stays whole)
CODE_LIKE = re.compile(r"[@_=:\d]|/{2}")  # e-mail, URL, identifier, number: never given a hyphen
CODE_BREAKS = "/_.@-"

Measure = Callable[[str], float]


@lru_cache(maxsize=4)
def _dictionary(locale: str) -> pyphen.Pyphen:
    """Pyphen's patterns for a locale (German for "de", English for "en"), loaded once per process."""
    lang = {"de": "de_DE", "en": "en_GB"}.get(locale, locale)
    return pyphen.Pyphen(lang=lang if lang in pyphen.LANGUAGES else "de_DE", left=3, right=3)  # no "Da-" or "-se" at a line end


@lru_cache(maxsize=4096)
def syllable_breaks(word: str, locale: str) -> tuple[int, ...]:
    """Positions inside a run of letters where it may be hyphenated.

    The German patterns know compound words poorly ("ver-a-r-bei-tung", "Fol-ge-n-ab-schät-zung"):
    a break next to a one-letter syllable is dropped, which leaves only correct ones.
    """
    points = list(_dictionary(locale).positions(word))
    bounds = [0, *points, len(word)]
    return tuple(p for i, p in enumerate(points, start=1) if p - bounds[i - 1] >= 2 and bounds[i + 1] - p >= 2)


def break_points(token: str, locale: str, code: bool) -> list[tuple[int, bool]]:
    """Where a token may be broken, as (position, whether a hyphen is added), in order; `code`: an address or identifier."""
    if code:
        return [(i + 1, False) for i, char in enumerate(token[:-1]) if char in CODE_BREAKS and token[i + 1] not in CODE_BREAKS]
    points: list[tuple[int, bool]] = []
    for i, char in enumerate(token[:-1]):
        if char in "-/\u2013" and i >= 2 and len(token) - i > 3:  # after a hyphen, slash or dash already there
            points.append((i + 1, False))
        elif char == SOFT_HYPHEN:
            points.append((i + 1, True))
    for run in LETTERS.finditer(token):
        points.extend((run.start() + p, True) for p in syllable_breaks(run.group(), locale))
    return sorted(set(points))


def _fragment(token: str, end: int, hyphen: bool) -> str:
    return token[:end].replace(SOFT_HYPHEN, "") + (SOFT_HYPHEN if hyphen else "")


def _split(token: str, room: float, measure: Measure, locale: str, code: bool) -> tuple[str, str] | None:
    """The longest head of `token` (with its hyphen) that fits `room`, and the rest; None when no break fits."""
    for end, hyphen in reversed(break_points(token, locale, code)):
        head = token[:end].replace(SOFT_HYPHEN, "")
        if measure(head + "-" if hyphen else head) <= room:
            return _fragment(token, end, hyphen), token[end:]
    return None


def _cut(token: str, width: float, measure: Measure, code: bool) -> tuple[str, str]:
    """A token with no break that fits a whole line (a very long name or number): cut by characters, with a hyphen for words."""
    hyphen = not code
    cut = len(token) - 1
    while cut > 1 and measure(token[:cut] + ("-" if hyphen else "")) > width:
        cut -= 1
    return token[:cut] + (SOFT_HYPHEN if hyphen else ""), token[cut:]


def wrap(text: str, width: float, measure: Measure, locale: str) -> list[str]:
    """Break `text` into lines no wider than `width` (newlines kept), hyphenating where a word does not fit.

    A line that ends between two words keeps the space after its last word (invisible at
    the ragged right edge), so that text extraction and screen readers see two words.
    """
    space = measure(" ")
    zone = width * HYPHENATION_ZONE
    lines: list[str] = []
    for paragraph in text.split("\n"):
        current, used = "", 0.0
        for word in paragraph.split(" "):
            if not word:
                continue
            size = measure(word.replace(SOFT_HYPHEN, ""))
            if current and used + space + size <= width:
                current, used = f"{current} {word.replace(SOFT_HYPHEN, '')}", used + space + size
                continue
            code = bool(CODE_LIKE.search(word))
            if current:
                room = width - used - space
                split = _split(word, room, measure, locale, code) if room >= zone else None
                if split:
                    lines.append(f"{current} {split[0]}")
                    word = split[1]
                else:
                    lines.append(current + " ")
            while measure(word.replace(SOFT_HYPHEN, "")) > width:  # longer than a whole line
                head, word = _split(word, width, measure, locale, code) or _cut(word, width, measure, code)
                lines.append(head)
            current = word.replace(SOFT_HYPHEN, "")
            used = measure(current)
        lines.append(current)
    return lines
