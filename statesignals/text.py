"""Names from workflows as text that is safe to print on a terminal."""

from __future__ import annotations

import unicodedata


def printable(text: str) -> str:
    """``text`` with control and format characters (NUL, ESC, newlines, bidi overrides)
    written as escapes, so a name from a file cannot move the cursor or fake a line."""
    if text.isprintable():
        return text
    return "".join(
        character
        if character.isprintable() or unicodedata.category(character) == "Zs"
        else ascii(character)[1:-1]
        for character in text
    )


__all__ = ["printable"]
