"""Hardened XML loading for JUnit files: no DTDs, no entities, no network, one-line reasons.

JUnit XML never needs a DTD, so any ``<!DOCTYPE`` (and with it every ``<!ENTITY``) is rejected
before lxml sees the document: lxml substitutes internal entities in attribute values even with
``resolve_entities=False``, so rejecting the declaration is the only safe answer to an entity bomb.
The parser itself is configured as a second line of defence (no DTD loading, no network, no
entity resolution, libxml2's size limits kept, a resolver that refuses every external resource).

Every problem becomes a :class:`XMLRejected` carrying a short one-line reason; callers turn it
into the file's error text and never see an lxml exception.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from typing import IO, Any

from lxml import etree

PROLOG_WINDOW = 64 * 1024
"""How many leading bytes are inspected for the prolog (declaration, comments, DOCTYPE)."""

REASON_MAX = 200
"""Reasons are cut to this many characters."""

_OK_ENCODINGS = {"utf-8", "utf8", "us-ascii", "ascii", "iso-8859-1", "latin-1", "latin1"}
_DECL_ENCODING = re.compile(rb"""encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_TITLE = re.compile(rb"<title[^>]*>(.*?)</title", re.IGNORECASE | re.DOTALL)
_TRUNCATION_HINTS = ("premature end of data", "endtag: '</' not found", "end of start tag")

PARSER_OPTIONS: dict[str, Any] = {
    "load_dtd": False,
    "dtd_validation": False,
    "attribute_defaults": False,
    "no_network": True,
    "resolve_entities": False,
    "huge_tree": False,
    "remove_pis": True,
}
"""Keyword arguments shared by every lxml parser this module creates."""


class XMLRejected(Exception):
    """A document that will not be parsed; ``reason`` is one line for the operator."""

    def __init__(
        self, reason: str, *, truncated: bool = False, line: int = 0, detail: str = ""
    ) -> None:
        self.reason = one_line(reason)
        self.truncated = truncated
        self.line = line
        """Line of a parse error (1-based), 0 when not from the parser."""
        self.detail = detail
        """The parser's own message, when there is one."""
        super().__init__(self.reason)

    def hints_truncation(self, last_line: int) -> bool:
        """Whether this parse error looks like a document that simply stops early."""
        lowered = self.detail.lower()
        if not self.detail or "encoding" in lowered or "extra content" in lowered:
            return False
        return any(hint in lowered for hint in _TRUNCATION_HINTS) or self.line >= last_line


class _DenyResolver(etree.Resolver):
    """Refuse every external resource (DTD, entity, XInclude) by resolving it to nothing."""

    def resolve(self, url, pubid, context):
        """Return an empty document instead of opening ``url``."""
        return self.resolve_string("", context)


def one_line(text: str, limit: int = REASON_MAX) -> str:
    """Collapse whitespace and control characters in ``text`` and cut it to ``limit``."""
    cleaned = "".join(ch if ch.isprintable() else " " for ch in text)
    cleaned = " ".join(cleaned.split())
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"


def _decode_head(head: bytes) -> str:
    """Decode the first bytes of a document for prolog inspection (BOMs honoured)."""
    for bom, codec in (
        (codecs.BOM_UTF32_LE, "utf-32-le"),
        (codecs.BOM_UTF32_BE, "utf-32-be"),
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if head.startswith(bom):
            return head[len(bom) :].decode(codec, errors="replace")
    if b"\x00" in head[:4]:
        raise XMLRejected("unsupported encoding: UTF-16/UTF-32 without a byte-order mark")
    return head.decode("latin-1")


def check_prolog(head: bytes, *, complete: bool) -> None:
    """Reject empty, non-XML, HTML and DTD-bearing documents from their first bytes.

    ``head`` is the start of the document (up to :data:`PROLOG_WINDOW` bytes); ``complete`` says
    whether it is the whole document. Raises :class:`XMLRejected` with the reason.
    """
    if not head.strip():
        raise XMLRejected(
            "empty file (0 bytes)" if not head else "empty file (only whitespace)",
            truncated=not head,
        )
    text = _decode_head(head)
    pos = 0
    stripped = text.lstrip()
    if not stripped.startswith("<"):
        raise XMLRejected(f"not XML: starts with {one_line(stripped, 40)!r}")
    if stripped[:14].lower().startswith(("<!doctype html", "<html")):
        title = _TITLE.search(head)
        named = f": “{one_line(title.group(1).decode('utf-8', 'replace'), 60)}”" if title else ""
        raise XMLRejected(f"HTML page, not JUnit XML{named}")
    while True:
        while pos < len(text) and text[pos] in " \t\r\n":
            pos += 1
        if text.startswith("<?", pos):
            end = text.find("?>", pos)
            if end < 0:
                break
            if text.startswith("<?xml", pos):
                match = _DECL_ENCODING.search(text[pos:end].encode("latin-1", "replace"))
                encoding = match.group(1).decode().lower() if match else "utf-8"
                if encoding not in _OK_ENCODINGS and not head.startswith(
                    (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
                ):
                    raise XMLRejected(f"unsupported encoding {encoding!r} (JUnit XML is UTF-8)")
            pos = end + 2
        elif text.startswith("<!--", pos):
            end = text.find("-->", pos + 4)
            if end < 0:
                break
            pos = end + 3
        elif text.startswith("<!", pos):
            decl = text[pos : pos + 4096].upper()
            if decl.startswith("<!DOCTYPE"):
                if "<!ENTITY" in decl:
                    external = " SYSTEM" in decl or " PUBLIC" in decl
                    kind = "an external entity" if external else "entity declarations"
                    raise XMLRejected(
                        f"rejected: DOCTYPE with {kind} (entities are never expanded or loaded)"
                    )
                raise XMLRejected("rejected: DOCTYPE declaration (DTDs are not allowed in JUnit)")
            raise XMLRejected(f"malformed XML: unexpected {one_line(text[pos : pos + 20])!r}")
        else:
            return
    if complete or len(head) < PROLOG_WINDOW:
        raise XMLRejected("truncated: the file ends inside its XML prolog", truncated=True)
    raise XMLRejected("rejected: XML prolog longer than 64 KiB")


def hardened_iterparse(
    source: IO[bytes],
    events: tuple[str, ...] = ("start", "end"),
    tag: tuple[str, ...] | None = None,
) -> Any:
    """An lxml ``iterparse`` over ``source`` with the hardened options and a deny-all resolver.

    Call :func:`check_prolog` on the document's head first, :func:`reject_doctype` on the first
    element seen, and turn ``etree.XMLSyntaxError`` into :class:`XMLRejected` with
    :func:`rejected_from`.
    """
    parser = etree.iterparse(source, events=events, tag=tag, **PARSER_OPTIONS)
    parser.resolvers.add(_DenyResolver())
    return parser


def reject_doctype(elem: Any) -> None:
    """Raise :class:`XMLRejected` if the document of ``elem`` carries a DOCTYPE (second line)."""
    docinfo = elem.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise XMLRejected("rejected: DOCTYPE declaration (DTDs are not allowed)")


def safe_iterparse(
    source: IO[bytes], events: tuple[str, ...] = ("start", "end")
) -> Iterator[tuple[str, Any]]:
    """Iterate ``(event, element)`` pairs of a hardened parse; errors become XMLRejected."""
    first = True
    try:
        for event, elem in hardened_iterparse(source, events):
            if first:
                first = False
                reject_doctype(elem)
            yield event, elem
    except etree.XMLSyntaxError as exc:
        raise rejected_from(exc) from None


def rejected_from(exc: etree.XMLSyntaxError) -> XMLRejected:
    """Wrap an lxml syntax error, keeping its line and message for truncation checks."""
    line = exc.position[0] if exc.position else 0
    return XMLRejected(describe_syntax_error(exc), line=line, detail=exc.msg or str(exc))


def describe_syntax_error(exc: etree.XMLSyntaxError) -> str:
    """Turn an lxml syntax error into a one-line reason naming line and column."""
    message = (exc.msg or str(exc)).split(", line ")[0]
    line, column = exc.position if exc.position else (0, 0)
    lowered = message.lower()
    if "invalid bytes in character encoding" in lowered or "not proper utf-8" in lowered:
        return f"invalid UTF-8 at line {line}, column {column}"
    return f"malformed XML at line {line}, column {column}: {one_line(message, 120)}"


def parse_fragment(data: bytes) -> etree._Element:
    """Parse a small complete document (already prolog-checked) with the hardened parser."""
    parser = etree.XMLParser(**PARSER_OPTIONS)
    parser.resolvers.add(_DenyResolver())
    check_prolog(data[:PROLOG_WINDOW], complete=len(data) <= PROLOG_WINDOW)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise rejected_from(exc) from None
    if root.getroottree().docinfo.doctype:
        raise XMLRejected("rejected: DOCTYPE declaration (DTDs are not allowed)")
    return root
