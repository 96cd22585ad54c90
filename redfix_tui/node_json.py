"""Defensive JSON for files read from the node (results.json, canonical.json, rerun state).

A node's files are input, not trusted: :func:`load_json` caps the size and the nesting depth
(checked by a bracket scan *before* :func:`json.loads` recurses, since a 100,000-deep document
raises ``RecursionError``, which is not a ``ValueError``), and treats ``NaN``, ``Infinity`` and
numbers that overflow a float (``1e400``) as absent, noting it. Every refusal is a
:class:`NodeJSONError` whose message is one line naming the file. The ``describe`` and ``field``
helpers word the field-by-field type checks the parsers make.
"""

from __future__ import annotations

import json
import math
from itertools import accumulate
from typing import Any

MAX_BYTES = 16 * 1024 * 1024
"""A node file larger than this is not parsed."""
MAX_DEPTH = 64
"""Deepest nesting of arrays and objects accepted."""

_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


class NodeJSONError(ValueError):
    """A node file that cannot be used; the message is one line saying why."""


def size_text(size: int) -> str:
    """``17.2 MiB`` / ``300 KiB`` / ``12 bytes``."""
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f}".removesuffix(".0") + " MiB"
    if size >= 1024:
        return f"{size // 1024} KiB"
    return f"{size} bytes"


def too_big(name: str, size: int, limit: int = MAX_BYTES) -> str:
    """The one-line reason for a file over the size limit."""
    return f"{name} is {size_text(size)}, over the {size_text(limit)} limit"


def nesting_depth(data: bytes | str) -> int:
    """The deepest nesting of arrays and objects outside strings.

    Exact up to the first syntax error, which is as far as :func:`json.loads` goes: escaped
    backslashes and quotes are dropped, the text between quotes (the strings) is skipped, and
    what is left is reduced to its brackets, all in C-level string operations.
    """
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    plain = raw.replace(b"\\\\", b"").replace(b'\\"', b"")
    brackets = b"".join(plain.split(b'"')[0::2]).translate(None, _NOT_BRACKETS)
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0)


def load_json(
    data: bytes | str,
    name: str,
    *,
    limit: int = MAX_BYTES,
    max_depth: int = MAX_DEPTH,
) -> tuple[Any, list[str]]:
    """Parse a node file: ``(value, notes)``; raise :class:`NodeJSONError` with a reason.

    ``notes`` lists what was treated as absent (non-finite numbers become ``None``).
    """
    size = len(data)
    if size > limit:
        raise NodeJSONError(too_big(name, size, limit))
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise NodeJSONError(f"{name}: not UTF-8 text (byte {exc.start})") from None
    else:
        text = data.removeprefix("\ufeff")
    if "\x00" in text:
        raise NodeJSONError(f"{name}: holds NUL bytes (still being written?)")
    if nesting_depth(data) > max_depth:
        raise NodeJSONError(f"{name}: nested deeper than {max_depth} levels")
    notes: list[str] = []

    def constant(word: str) -> None:
        notes.append(f"{name}: {word} is not a number; treated as absent")
        return None

    def number(word: str) -> float | None:
        value = float(word)
        if math.isfinite(value):
            return value
        notes.append(f"{name}: {word[:20]} is out of range; treated as absent")
        return None

    try:
        value = json.loads(text, parse_constant=constant, parse_float=number)
    except json.JSONDecodeError as exc:
        raise NodeJSONError(
            f"{name}: not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        ) from None
    except (ValueError, RecursionError) as exc:  # e.g. an integer of more than 4300 digits
        raise NodeJSONError(f"{name}: not valid JSON ({_one_line(str(exc))})") from None
    return value, notes


def load_object(data: bytes | str, name: str, **limits: int) -> tuple[dict[str, Any], list[str]]:
    """:func:`load_json` for a file that must hold a JSON object."""
    value, notes = load_json(data, name, **limits)
    if not isinstance(value, dict):
        raise NodeJSONError(f"{name}: {describe(value)}, expected a JSON object")
    return value, notes


def describe(value: Any) -> str:
    """What a JSON value is, for a message: ``an integer (5)``, ``a list``, ``null``…"""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, int):
        text = str(value) if abs(value) < 10**15 else "…"
        return f"an integer ({text})"
    if isinstance(value, float):
        return f"a number ({value:g})"
    if isinstance(value, str):
        shown = value if len(value) <= 20 else value[:19] + "…"
        return f"a string ({shown!r})"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def wrong_type(name: str, where: str, value: Any, expected: str) -> str:
    """``results.json: stages is an integer (5), expected a list of stage objects``."""
    return f"{name}: {where} is {describe(value)}, expected {expected}"


def finite_number(value: Any) -> bool:
    """True for an int or float (not a bool) that is finite."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return math.isfinite(value) if isinstance(value, float) else True


def printable(text: str) -> str:
    """``text`` with every control or unprintable character escaped (``\\n``, ``\\x1b``)."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _one_line(text: str, width: int = 120) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"
