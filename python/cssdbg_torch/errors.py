"""The one error type of cssdbg-torch: a single line `FILE: problem; hint`, as cssdbg prints."""

from __future__ import annotations

import re


def one_line(text: str) -> str:
    """`text` safe to print as one terminal line: line breaks become one space, tabs a space,
    other control characters `\\u{XX}` escapes (names from files end up in messages)."""
    text = re.sub(r"[\n\r\v\f\x85\u2028\u2029]+", " ", text).strip(" ") if text else text
    out = []
    for ch in text:
        c = ord(ch)
        if ch == "\t":
            out.append(" ")
        elif c < 0x20 or 0x7F <= c <= 0x9F or 0x202A <= c <= 0x202E or 0x2066 <= c <= 0x2069:
            out.append("\\u{%X}" % c)
        else:
            out.append(ch)
    return "".join(out)


class CSSError(Exception):
    """A problem with an input file or setting, worded as cssdbg words it."""

    def __init__(self, file: str, problem: str, hint: str | None = None):
        self.file, self.problem, self.hint = str(file), problem, hint
        super().__init__(str(self))

    def __str__(self) -> str:
        return one_line(f"{self.file}: {self.problem}" + (f"; {self.hint}" if self.hint else ""))


class SettingError(Exception):
    """A bad setting (T, β, ...), worded like cssdbg's `GraphError`."""
