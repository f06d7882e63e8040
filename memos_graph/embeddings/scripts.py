"""Which embedding model a text goes to: Latin-script text to the English model, other scripts to the
multilingual one.

A text is counted in units: a run of Latin letters is one unit (a word); each Han, Hiragana, Katakana or
Hangul character is one unit (those scripts write words without spaces, a character is about a word); a run
of letters of any other script (Cyrillic, Greek, Arabic, Devanagari, Thai, ...) is one unit. Digits,
punctuation, symbols and emoji count nothing. The text goes to the multilingual model when its non-Latin
units outnumber its Latin ones: "我在Google工作" (4 to 1) and "Каролина любит рисовать" do, "I love 火锅 so much"
(2 to 4) and "café au lait" do not. Full-width Latin letters count as Latin. A text with no letter at all
stays with the English model.
"""

from __future__ import annotations

import re

# Latin letters: ASCII, Latin-1 Supplement and Latin Extended-A/B, IPA, Latin Extended Additional, C, D, E,
# and full-width forms.
_LATIN = (
    "A-Za-z\u00aa\u00ba\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f\u0250-\u02af\u1e00-\u1eff"
    "\u2c60-\u2c7f\ua720-\ua7ff\uab30-\uab6f\uff21-\uff3a\uff41-\uff5a"
)
# Scripts written without spaces between words: Han (with extensions and compatibility ideographs), Hiragana,
# Katakana (with its phonetic extensions and half-width forms), Hangul syllables and jamo, Bopomofo.
_CJK = (
    "\u1100-\u11ff\u3040-\u30ff\u3100-\u312f\u3130-\u318f\u31a0-\u31bf\u31f0-\u31ff\u3400-\u4dbf"
    "\u4e00-\u9fff\ua960-\ua97f\uac00-\ud7af\ud7b0-\ud7ff\uf900-\ufaff\uff66-\uff9f\uffa0-\uffdc"
    "\U00020000-\U0003134f"
)
_UNITS = re.compile(rf"(?P<latin>[{_LATIN}]+)|(?P<cjk>[{_CJK}])|(?P<other>[^\W\d_{_LATIN}{_CJK}]+)")


def script_units(text: str) -> tuple[int, int]:
    """(Latin units, non-Latin units) of `text`, as the module docstring counts them."""
    latin = other = 0
    for match in _UNITS.finditer(text):
        if match.lastgroup == "latin":
            latin += 1
        else:
            other += 1
    return latin, other


def needs_multilingual(text: str) -> bool:
    """Whether `text` goes to the multilingual model: its non-Latin units outnumber its Latin ones."""
    if text.isascii():
        return False
    latin, other = script_units(text)
    return other > latin
