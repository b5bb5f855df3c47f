"""Text from outside (stop reasons, API error messages, names from events) made inert for people.

Pure. A stop reason is written by whoever runs the container, a CloudTrail error message by whoever made
the call, an event by whoever could send it: none may reach a terminal, a mail client or Slack as anything
but text. Terminal escape sequences (colours, cursor moves, OSC 8 links) are dropped whole; every other
control, format (bidi overrides, zero-width, BOM) or surrogate character is shown as `<U+XXXX>`, so a
reader sees that something was there; a line break is shown as `⏎`, so no text can fake a line of ours.
"""

from __future__ import annotations

import re
import unicodedata

NEWLINE_SHOWN = " ⏎ "
# CSI (ESC [ ... final), OSC (ESC ] ... BEL or ST, e.g. terminal hyperlinks), and two-character escapes.
_ESCAPE_SEQUENCE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]")
_SHOWN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def inert(text: str) -> str:
    """`text` with escape sequences dropped, invisible or controlling characters shown, on one line."""
    text = _ESCAPE_SEQUENCE.sub("", text.replace("\r\n", "\n"))
    shown = []
    for ch in text:
        if ch == "\n":
            shown.append(NEWLINE_SHOWN)
        elif ch == "\t":
            shown.append(" ")
        elif unicodedata.category(ch) in _SHOWN_CATEGORIES:
            shown.append(f"<U+{ord(ch):04X}>")
        else:
            shown.append(ch)
    return "".join(shown)
