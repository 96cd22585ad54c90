"""Filling and walking the tree of :class:`~redfix_tui.widgets.junit_view.JUnitView`.

A node's data is a :class:`~redfix_tui.junit.tree.TreeItem` (run view), a
:class:`~redfix_tui.junit.compare.CaseChange` (comparison view) or ``None``. Failing branches are
filled at once; passing suites are left empty until opened. ``]`` / ``[`` stop at failing cases,
unreadable files and changes for the worse.
"""

from __future__ import annotations

from collections.abc import Iterator

from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from redfix_tui.junit.compare import CaseChange, Comparison, Verdict
from redfix_tui.junit.tree import Kind, TreeItem, suite_children

from .junit_labels import change_label, item_label, stage_label

Data = TreeItem | CaseChange | None
"""What a node of the results tree carries."""


def fill_node(node: TreeNode[Data], item: TreeItem) -> None:
    """Add ``item``'s children under ``node``; failing branches are filled at once."""
    children = suite_children(item) if item.suite is not None else item.children
    for child in children:
        if child.kind is Kind.CASE or child.kind is Kind.BAD_FILE or child.kind is Kind.NOTE:
            node.add_leaf(item_label(child), child)
            continue
        sub = node.add(item_label(child), child, expand=child.has_problems)
        if child.has_problems:
            fill_node(sub, child)


def fill_comparison(root: TreeNode[Data], comparison: Comparison) -> None:
    """Add one node per stage under ``root``, with a leaf per case that changed."""
    for stage in comparison.stages:
        changed = [c for c in stage.changes if c.verdict is not Verdict.UNCHANGED]
        unchanged = len(stage.changes) - len(changed)
        node = root.add(stage_label(stage, unchanged), None, expand=bool(changed))
        for change in changed:
            node.add_leaf(change_label(change), change)


def tree_nodes(tree: Tree[Data]) -> Iterator[TreeNode[Data]]:
    """Every node below the root, depth first (display order)."""
    stack = list(reversed(tree.root.children))
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(node.children))


def is_failure(data: Data) -> bool:
    """Whether a node is a stop for ``]`` / ``[``."""
    if isinstance(data, CaseChange):
        return data.verdict in (Verdict.NEW_FAILURE, Verdict.STILL_FAILING, Verdict.FLAKY)
    if isinstance(data, TreeItem):
        return data.kind is Kind.BAD_FILE or (data.case is not None and data.case.bad)
    return False


def failure_nodes(tree: Tree[Data]) -> list[TreeNode[Data]]:
    """Failure nodes in display order."""
    return [node for node in tree_nodes(tree) if is_failure(node.data)]


def first_change(tree: Tree[Data]) -> TreeNode[Data] | None:
    """The first change for the worse in display order, else the first change; None if none."""
    nodes = [node for node in tree_nodes(tree) if isinstance(node.data, CaseChange)]
    return next((n for n in nodes if is_failure(n.data)), None) or next(iter(nodes), None)


def reveal(tree: Tree[Data], node: TreeNode[Data]) -> None:
    """Expand ``node``'s ancestors and put the cursor on it."""
    parent = node.parent
    while parent is not None:
        parent.expand()
        parent = parent.parent
    _ = tree.last_line  # rebuilds the line index so the node's line is current
    tree.move_cursor(node)


def next_failure(tree: Tree[Data], forward: bool) -> TreeNode[Data] | None:
    """The next (or previous) failure from the cursor, wrapping around; None if no other."""
    order = list(tree_nodes(tree))
    current = tree.cursor_node
    position = order.index(current) if current in order else -1
    if forward:
        candidates = order[position + 1 :] + order[: position + 1]
    elif position < 0:
        candidates = order[::-1]
    else:
        candidates = order[:position][::-1] + order[position:][::-1]
    for node in candidates:
        if is_failure(node.data) and node is not current:
            return node
    return None
