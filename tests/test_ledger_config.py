"""``[paths] archive`` and ``[board] keep_runs``: defaults and validation at load."""

from __future__ import annotations

import pytest

from redfix_tui.config import Config, ConfigError, config_from_dict
from redfix_tui.runs.ledger import archive_base, shell_dir


def test_defaults() -> None:
    config = Config()
    assert config.paths.archive == "~/.local/share/redfix-tui/runs/{recipe}/{start}"
    assert config.board.keep_runs == 30
    assert archive_base(config) == "~/.local/share/redfix-tui/runs"
    assert shell_dir(archive_base(config)) == '"$HOME"/.local/share/redfix-tui/runs'
    assert shell_dir("/srv/my runs") == "'/srv/my runs'"


@pytest.mark.parametrize(
    "archive",
    ["/srv/runs/{recipe}/{start}", "/srv/runs/{recipe}/{start}/", "~/a/{recipe}/{start}"],
)
def test_archive_accepted(archive: str) -> None:
    config = config_from_dict({"paths": {"archive": archive}})
    assert archive_base(config) == archive.rstrip("/")[: -len("/{recipe}/{start}")]


@pytest.mark.parametrize(
    ("archive", "words"),
    [
        ("/srv/runs/{start}/{recipe}", "ending in /{recipe}/{start}"),
        ("/srv/runs/{recipe}", "ending in /{recipe}/{start}"),
        ("/srv/{tag}/{recipe}/{start}", "no other placeholder"),
        ("srv/runs/{recipe}/{start}", "absolute or ~/"),
        ("/{recipe}/{start}", "absolute or ~/"),
        ("/srv/../etc/{recipe}/{start}", ". or .."),
        ("/srv/ru\nns/{recipe}/{start}", "control characters"),
        ("", "must not be empty"),
    ],
)
def test_archive_refused(archive: str, words: str) -> None:
    with pytest.raises(ConfigError, match=r"\[paths\.archive\]") as caught:
        config_from_dict({"paths": {"archive": archive}}, "x.toml")
    assert words in str(caught.value) and "x.toml" in str(caught.value)


@pytest.mark.parametrize("keep", [0, -1, 10001])
def test_keep_runs_range(keep: int) -> None:
    with pytest.raises(ConfigError, match=r"\[board\.keep_runs\] expected a number of runs"):
        config_from_dict({"board": {"keep_runs": keep}})
    with pytest.raises(ConfigError, match="expected an integer"):
        config_from_dict({"board": {"keep_runs": "30"}})
    assert config_from_dict({"board": {"keep_runs": 5}}).board.keep_runs == 5
