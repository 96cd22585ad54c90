"""The phase journal: format model, body escaping, flattened-copy reader, locked safe store,
drafts and CLI.

Core package: never imports Textual.
"""
