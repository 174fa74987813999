"""Strings from the LAN, made safe for the place Home Assistant shows them.

Port-mapping descriptions, friendly names, DHCP host names and DNS server lists are
chosen by whoever controls a device or the router: every one is hostile. Each sink gets
its own treatment, and every one bounds the length (MAX_LAN_TEXT, MAX_LOG_ARG):

- `clean`: plain text (events, service responses, issue titles, entity names): control
  and format characters (C0, C1, DEL, bidi overrides, zero-width, line and paragraph
  separators) go, whitespace runs become one space.
- `code`: repair descriptions, which the frontend renders as markdown: the clean text in
  a code span, so `[login](http://...)` or `![](http://x/beacon)` stays text (no link, no
  image fetched). The fence is longer than any backtick run inside (CommonMark 6.1).
- `markdown`: any placeholder of a repair (titles and descriptions share them): the
  clean text itself when it holds nothing markdown acts on, else `code`.
- `log`: log arguments: controls shown as escapes (a newline cannot forge a log line,
  an ESC cannot drive the terminal), cut at MAX_LOG_ARG.
- `get_logger`: a module logger whose records have every str or exception argument
  passed through `log`, so existing `_LOGGER.info("%s", name)` calls are safe as written.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Mapping
from typing import Any

from .const import MAX_LAN_TEXT, MAX_LOG_ARG

ELLIPSIS = "…"
# Unicode categories never shown: Cc controls, Cf format (bidi overrides, zero-width),
# Zl/Zp line and paragraph separators, Cs lone surrogates (from surrogateescape).
_HIDDEN = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})
# Of those, these separate words (a newline, a tab): they become a space, the others go.
_SEPARATING = frozenset({"Cc", "Zl", "Zp"})
_SPACES = re.compile(r"\s+")
_BACKTICKS = re.compile(r"`+")
# Text made of these is inert inline markdown: no emphasis (* _ ~), no link or image
# ([ ] < >), no entity (&), no escape or code (\ `). Placeholders sit mid-sentence and
# are single-line (clean), so block syntax (# - 1.) cannot start there.
_INERT = re.compile(r"(?:[^\W_]|[ .,:;'!?()+/#%=-])*")
# ... except GFM's extended autolinks, which need no brackets.
_AUTOLINK_MARKERS = ("://", "www.")


def _hidden(char: str) -> bool:
    return unicodedata.category(char) in _HIDDEN


def _plain(char: str) -> str:
    category = unicodedata.category(char)
    if category in _SEPARATING:
        return " "
    return "" if category in _HIDDEN else char


def _bound(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + ELLIPSIS


def clean(text: object, limit: int = MAX_LAN_TEXT) -> str:
    """Plain text: no control or format characters, single spaces, at most `limit` chars.

    None (a value the device did not send) is the empty text.
    """
    raw = ("" if text is None else str(text))[: limit * 4]  # a hostile megabyte is not walked
    visible = "".join(_plain(char) for char in raw)
    return _bound(_SPACES.sub(" ", visible).strip(), limit)


def code(text: object, limit: int = MAX_LAN_TEXT, empty: str = "-") -> str:
    """A markdown code span showing the clean text literally ("-" when there is none)."""
    body = clean(text, limit)
    if not body:
        return empty
    longest = max((len(run) for run in _BACKTICKS.findall(body)), default=0)
    fence = "`" * (longest + 1)
    # Padding on both sides: CommonMark strips one space each side, and a body that
    # starts or ends with a backtick cannot merge with the fence.
    return f"{fence} {body} {fence}"


def markdown(text: object, limit: int = MAX_LAN_TEXT, empty: str = "-") -> str:
    """A repair placeholder: the clean text if markdown leaves it alone, else a code span."""
    body = clean(text, limit)
    if not body:
        return empty
    lowered = body.lower()
    if _INERT.fullmatch(body) and not any(marker in lowered for marker in _AUTOLINK_MARKERS):
        return body
    return code(body, limit, empty)


def log(text: object, limit: int = MAX_LOG_ARG) -> str:
    """Log text: every hidden character as a visible escape, at most `limit` chars."""
    raw = str(text)[: limit * 2]
    shown = "".join(
        (f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}")
        if _hidden(char)
        else char
        for char in raw
    )
    return _bound(shown, limit)


def _log_arg(arg: Any) -> Any:
    if isinstance(arg, str | BaseException):
        return log(arg)
    return arg


class LanTextLogFilter(logging.Filter):
    """Passes every str or exception argument of a record through `log`."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_log_arg(arg) for arg in record.args)
        elif isinstance(record.args, Mapping):
            record.args = {key: _log_arg(value) for key, value in record.args.items()}
        return True


_FILTER = LanTextLogFilter()


def get_logger(name: str) -> logging.Logger:
    """`logging.getLogger(name)` with the LAN text filter attached (once)."""
    logger = logging.getLogger(name)
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)
    return logger
