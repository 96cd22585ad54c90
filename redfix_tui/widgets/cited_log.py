"""Back from a journal reference to the lines it cites, in the log pane.

:func:`open_citation` is what the main screen runs (in a worker) when the journal asks to open
a reference: the console's own copy of the log (the view's spool) is used when it still holds
the cited bytes unchanged; otherwise the byte range is read back from the node — the run's
archived copy first, else the log (:mod:`redfix_tui.logs.excerpt`) — and shown in the pane
under a line saying what it is. Either way the cited lines are selected, and when the bytes no
longer hash to the cited sha256 the pane's title and one notification say "changed since cited".
"""

from __future__ import annotations

import weakref

from redfix_tui.journal.citations import Citation
from redfix_tui.logs.excerpt import (
    CHANGED,
    ExcerptError,
    excerpt_spool,
    fetch_cited,
    read_local,
)
from redfix_tui.logs.origins import locate
from redfix_tui.logs.spool import LogSpool
from redfix_tui.node import NodeError
from redfix_tui.node_api import Node
from redfix_tui.widgets.log_pane import LogPane
from redfix_tui.widgets.log_view import LogView

_SHOWN: weakref.WeakKeyDictionary[LogPane, LogSpool] = weakref.WeakKeyDictionary()
"""The excerpt spool each pane shows (closed when the next one replaces it)."""


def select_lines(view: LogView, first: int, last: int) -> None:
    """Put the cursor on 0-based spool lines ``first``…``last`` as a marked range (``y`` and
    ``e`` act on it)."""
    view.flush()
    view.goto_line(first + 1)
    view.action_mark()
    view.goto_line(last + 1)


def _in_view(pane: LogPane, citation: Citation) -> bool:
    """Whether the pane's view follows the cited file (or its archived copy) of the cited node
    (an excerpt read back earlier does not count: the file may have changed since)."""
    view = pane.log_view
    sources = {citation.path, citation.archive} - {""}
    if view.spool is None or view.spool is _SHOWN.get(pane):
        return False
    return view.host == citation.node and view.source_label in sources


async def open_citation(pane: LogPane, node: Node, citation: Citation) -> bool:
    """Show the lines ``citation`` cites in ``pane``, selected; return True when they are the
    cited bytes (False: changed since cited, or they could not be shown — said in one line)."""
    if citation.kind != "log" or citation.byte_range is None:
        pane.notify(
            f"{citation.where}: not a log excerpt with a byte range",
            severity="warning",
            markup=False,
        )
        return False
    if citation.node and citation.node != node.host_label:
        pane.notify(
            f"the evidence is from node {citation.node}; this console is on {node.host_label}: "
            "switch nodes with N and open it again",
            severity="error",
            markup=False,
        )
        return False
    view = pane.log_view
    if _in_view(pane, citation):
        assert view.spool is not None
        found = locate(view.spool, citation.byte_range, citation.sha256)
        if found is not None and found.matches:
            select_lines(view, found.first, found.last)
            pane.notify(f"cited {citation.span} of {citation.where}", timeout=3, markup=False)
            return True
    try:
        fetched = await fetch_cited(node, citation) if citation.node else read_local(citation)
    except ExcerptError as error:
        pane.notify(
            f"{error} (the file is gone or unreadable)", severity="error", timeout=10, markup=False
        )
        return False
    except NodeError as error:
        pane.notify(
            f"cannot read the cited lines now: {error.message} (open them again once the node "
            "is back)",
            severity="error",
            timeout=10,
            markup=False,
        )
        return False
    spool = excerpt_spool(citation, fetched)
    previous = _SHOWN.pop(pane, None)
    pane.show_excerpt(spool, fetched.path, host=citation.node)
    if previous is not None and previous is not spool:
        previous.close()
    _SHOWN[pane] = spool
    weakref.finalize(pane, spool.close)  # the pane owns nothing it is shown: close with it
    pane.title_text = f"{pane.title_text} · cited {citation.span}"
    if not fetched.matches:
        pane.title_text += f" · {CHANGED}"
    pane.show_title()
    select_lines(view, 1, max(1, spool.line_count - 1))
    where = f"{citation.node}:{fetched.path}" if citation.node else fetched.path
    if fetched.matches:
        pane.notify(f"cited {citation.span} read back from {where}", timeout=4, markup=False)
    else:
        pane.notify(
            f"{CHANGED}: {where} no longer holds the cited bytes (sha256 differs); "
            "shown: what it holds there now",
            severity="warning",
            timeout=10,
            markup=False,
        )
    return fetched.matches
