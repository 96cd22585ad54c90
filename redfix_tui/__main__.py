"""``python -m redfix_tui``: the same as the ``redfix-tui`` command."""

import sys

from .cli import main

sys.exit(main())
