"""Building remote shell commands safely: validation of names and quoting of every value.

Command templates come from the config and name placeholders such as ``{recipe}``. Only the
known placeholder names are replaced, each by a :func:`shlex.quote`-d value; any other brace (for
example docker's ``{{.Name}}``) is left exactly as written.
"""

from __future__ import annotations

import re
import shlex

RECIPE_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")
"""A Co-op Cloud recipe name: lower-case letters, digits, dot, dash, underscore."""
TAG_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$")
"""A recipe release tag such as ``0.8.1+3.5.0`` or ``1.0.0+v1.6.870-0``."""
PLACEHOLDERS = ("recipe", "tag", "log", "harness", "runs_root", "warm_root", "path", "run_id")
_PLACEHOLDER_RE = re.compile(r"\{(" + "|".join(PLACEHOLDERS) + r")\}")


def placeholders(template: str) -> set[str]:
    """The known placeholder names ``template`` uses (``{recipe}`` → ``recipe``)."""
    return set(_PLACEHOLDER_RE.findall(template))


class UnsafeValue(ValueError):
    """A value that may not be put into a remote command; the message says why."""


def validate_recipe(name: str) -> str:
    """Return ``name`` if it is a valid recipe name, else raise :class:`UnsafeValue`."""
    if not RECIPE_RE.fullmatch(name or ""):
        raise UnsafeValue(
            f"not a valid recipe name: {name!r} (lower-case letters, digits, '.', '-', '_')"
        )
    return name


def validate_tag(tag: str) -> str:
    """Return ``tag`` if it is a valid release tag, else raise :class:`UnsafeValue`."""
    if not TAG_RE.fullmatch(tag or ""):
        raise UnsafeValue(f"not a valid tag: {tag!r} (letters, digits, '.', '+', '-', '_')")
    return tag


def validate_path(path: str) -> str:
    """Return ``path`` if it is an absolute path without control characters."""
    if not path.startswith("/") or any(ord(c) < 32 or ord(c) == 127 for c in path):
        raise UnsafeValue(f"not an absolute path: {path!r}")
    return path


_VALIDATORS = {"recipe": validate_recipe, "tag": validate_tag}


def render(template: str, **values: str) -> str:
    """Fill ``template``'s known placeholders with validated, shell-quoted ``values``.

    Raises :class:`UnsafeValue` for an invalid recipe or tag, and :class:`KeyError` naming a
    placeholder the template uses but ``values`` lacks.
    """
    for key, value in values.items():
        if key in _VALIDATORS:
            _VALIDATORS[key](value)

    def substitute(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in values:
            raise KeyError(f"command template needs {{{key}}}: {template}")
        return shlex.quote(str(values[key]))

    return _PLACEHOLDER_RE.sub(substitute, template)


def fill_path(template: str, **values: str) -> str:
    """Fill a *path* template such as ``/tmp/redfix-{recipe}.log`` (unquoted, validated)."""
    for key, value in values.items():
        if key in _VALIDATORS:
            _VALIDATORS[key](value)
    return _PLACEHOLDER_RE.sub(lambda m: str(values[m.group(1)]), template)
