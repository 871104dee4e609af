"""Text the target sent, made safe for every format the suite writes: whatever it holds, each file parses.

* ``xml_safe``: what XML 1.0 cannot hold (NUL and the other C0 controls but tab, newline and carriage return,
  lone surrogates, U+FFFE, U+FFFF) written visibly as ``\\x00`` or ``\\ud800``;
* ``printable``: one line for a terminal or a Markdown table: every control character (ANSI escapes
  included) and lone surrogate written visibly, so a target's answer can neither break the layout nor
  drive the terminal;
* ``no_surrogates``: lone surrogates (from JSON escapes such as ``"\\ud800"``) written visibly, so the text
  encodes as UTF-8 (JSON writers escape control characters themselves);
* ``utf8``: the bytes of a text file, lone surrogates as ``\\udXXX`` escapes (valid inside JSON strings,
  where they are the only place such characters occur, so a JSON document stays exact).
"""

from __future__ import annotations

import re

_NOT_XML = re.compile(r"[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\U00010000-\U0010FFFF]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\uD800-\uDFFF\uFFFE\uFFFF]")
_SURROGATE = re.compile(r"[\uD800-\uDFFF]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def xml_safe(text: str) -> str:
    return _NOT_XML.sub(_visible, text)


def printable(text: str) -> str:
    return _CONTROL.sub(_visible, text)


def no_surrogates(text: str) -> str:
    return _SURROGATE.sub(_visible, text)


def utf8(text: str) -> bytes:
    return text.encode("utf-8", "backslashreplace")
