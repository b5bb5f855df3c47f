"""Text SQS accepts: a message body or attribute may hold only #x9, #xA, #xD, #x20-#xD7FF,
#xE000-#xFFFD and #x10000-#x10FFFF (so no lone surrogates, no other control characters)."""

from __future__ import annotations


def sqs_text(text: str) -> str:
    """`text` with what SQS refuses replaced by U+FFFD: it takes #x9, #xA, #xD, #x20-#xD7FF,
    #xE000-#xFFFD and #x10000-#x10FFFF only (lone surrogates included in the refused)."""
    if all(ch in "\t\n\r" or " " <= ch <= "\ud7ff" for ch in text):
        return text  # the common case: nothing to look at twice
    return "".join(ch if _sqs_allows(ch) else "\ufffd" for ch in text)


def _sqs_allows(ch: str) -> bool:
    code = ord(ch)
    return code in (0x9, 0xA, 0xD) or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD or code >= 0x10000
