"""redfix-tui: a terminal investigation console for the operator of a recipe CI node."""

__version__ = "0.1.0"
