"""Log spooling, indexing, sanitising, search and tailing (core: no Textual)."""
