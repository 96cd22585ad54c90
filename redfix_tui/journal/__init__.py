"""The phase journal: format model, flattened-copy reader, safe store, drafts and CLI.

Core package: never imports Textual.
"""
