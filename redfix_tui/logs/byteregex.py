"""A line-search regex as a bytes regex, for searching pure-ASCII spool blocks without decoding.

Python's ``re`` finds the same matches in ASCII text as in the same ASCII bytes when the pattern
means the same for both: an ASCII pattern without ``\\s``/``\\S`` (on text they also match
``\\x1c``-``\\x1f``) and without text-only escapes or flags. Classes, ``\\w``, ``\\d``, ``\\b``,
``.`` and case-insensitive matching of ASCII letters agree. :func:`bytes_search` says whether a
regex qualifies and how to search with it.

Case-insensitive matching is slow in ``re`` (no fast literal scan: about 20 times slower on a
long log). Matching ignoring case gives the same result on a block and on its lower-cased copy,
and on lower-cased data a case-sensitive pattern whose letters are lower-cased (and whose
classes also hold the lower-case forms of their capitals) matches exactly where the original
does. :func:`bytes_search` builds that pattern from the parsed regex when it can (no scoped
flags, only known constructs) and asks for the block to be lower-cased first — unless the
block lacks a letter-free piece of the pattern that every match must hold (``" 0009998"`` in
``line 0009998[0-9]{2}``): such a block is passed over without lower-casing it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from re import (  # type: ignore[attr-defined]  # re's private parser: not in typeshed
    _compiler,
    _constants,
    _parser,
)

_TEXT_ONLY = re.compile(r"\\[sSNuU]")
"""Escapes that mean more on text than on bytes, even for ASCII (``\\s``: ``\\x1c``-``\\x1f``)."""

_A, _Z = ord("A"), ord("Z")
_CASE = ord("a") - ord("A")


@dataclass(frozen=True)
class BytesSearch:
    """How to search an ASCII block as bytes: with :attr:`regex`, over the block lower-cased
    first when :attr:`lower` is set."""

    regex: re.Pattern[bytes]
    lower: bool
    required: bytes = b""
    """Bytes every match contains as they are (no letters), or empty: a block without them has
    no match, which a plain ``in`` tells long before lower-casing it would."""

    def subject(self, data: bytes) -> bytes:
        """The bytes to run :attr:`regex` over for the ASCII block ``data``."""
        return data.lower() if self.lower else data

    def may_match(self, data: bytes) -> bool:
        """False when ``data`` certainly holds no match."""
        return not self.required or self.required in data


class _Unsupported(Exception):
    """The parsed pattern holds something the case folding does not handle."""


def _low(code: int) -> int:
    return code + _CASE if _A <= code <= _Z else code


def _fold_set(items: list) -> list:
    """A class's items, with the lower-case forms of its capitals added."""
    out: list[tuple[object, object]] = []
    for op, av in items:
        if op is _constants.LITERAL:
            out.append((op, _low(av)))
        elif op is _constants.RANGE:
            out.append((op, av))
            lo, hi = max(av[0], _A), min(av[1], _Z)
            if lo <= hi:
                out.append((op, (_low(lo), _low(hi))))
        elif op in (_constants.NEGATE, _constants.CATEGORY):
            out.append((op, av))
        else:
            raise _Unsupported(op)
    return out


def _fold(sub: _parser.SubPattern) -> None:
    """Lower-case the literals of ``sub`` in place (see the module docstring)."""
    c = _constants
    data = []
    for op, av in sub.data:
        if op in (c.LITERAL, c.NOT_LITERAL):
            av = _low(av)
        elif op is c.IN:
            av = _fold_set(av)
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT):
            _fold(av[2])
        elif op is c.SUBPATTERN:
            if av[1] or av[2]:
                raise _Unsupported("scoped flags")
            _fold(av[3])
        elif op is c.BRANCH:
            for branch in av[1]:
                _fold(branch)
        elif op in (c.ASSERT, c.ASSERT_NOT):
            _fold(av[1])
        elif op is c.ATOMIC_GROUP:
            _fold(av)
        elif op is c.GROUPREF_EXISTS:
            _fold(av[1])
            if av[2] is not None:
                _fold(av[2])
        elif op not in (c.ANY, c.AT, c.CATEGORY, c.GROUPREF):
            raise _Unsupported(op)
        data.append((op, av))
    sub.data = data


def _required(sub: _parser.SubPattern) -> bytes:
    """The longest run of letter-free literals in the pattern's top-level sequence (every match
    holds it, whatever the case), if at least 3 bytes long; else ``b""``."""
    best = run = b""
    for op, av in [*sub.data, (None, None)]:
        if op is _constants.LITERAL and not chr(av).isalpha():
            run += bytes([av])
            continue
        if len(run) > len(best):
            best = run
        run = b""
    return best if len(best) >= 3 else b""


def _folded(pattern: bytes, flags: int) -> BytesSearch | None:
    """The case-sensitive search over lower-cased data, or None if it cannot be built."""
    try:
        tree = _parser.parse(pattern, flags)
        _fold(tree)
        required = _required(tree)
        tree.state.flags &= ~re.IGNORECASE
        regex = _compiler.compile(tree, flags & ~re.IGNORECASE)
    except (_Unsupported, re.error, AttributeError, TypeError, ValueError, IndexError):
        return None
    return BytesSearch(regex, lower=True, required=required)


@lru_cache(maxsize=32)
def _bytes_search(pattern: str, flags: int) -> BytesSearch | None:
    if not pattern.isascii() or _TEXT_ONLY.search(pattern):
        return None
    flags &= ~re.UNICODE
    try:
        regex = re.compile(pattern.encode("ascii"), flags)
    except re.error:
        return None  # e.g. (?u): text only
    if not regex.flags & re.IGNORECASE:
        return BytesSearch(regex, lower=False)
    folded = _folded(pattern.encode("ascii"), flags)
    return BytesSearch(regex, lower=False) if folded is None else folded


def bytes_search(regex: re.Pattern[str]) -> BytesSearch | None:
    """How to find ``regex``'s lines in ASCII bytes, or None where only text search is exact."""
    return _bytes_search(regex.pattern, regex.flags)
