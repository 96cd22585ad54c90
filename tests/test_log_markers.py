"""Classification of important lines and stage banners."""

from __future__ import annotations

import random

import pytest

from redfix_tui.logs.markers import MarkerIndex, banner_stage, banner_title, classify
from redfix_tui.logs.spool import LogSpool


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        ("FAILED tests/gitea/test_upgrade.py::test_login - assert 502", "failure"),
        ("ERROR tests/x.py - ImportError", "failure"),
        ("Traceback (most recent call last):", "failure"),
        ("E   assert 200 == 502", "failure"),
        ("FATA[0003] service not converged", "failure"),
        ("!!!!!!!!!!!!!!!!!!!! Interrupted: 1 error !!!!!!!!!!!!!!!!!!!!", "failure"),
        ("tests/x.py::test_ok PASSED                          [ 50%]", "passed"),
        ("==== stage: upgrade ====", "banner"),
        ("===== test session starts =====", "banner"),
        ("normal output line", None),
        ("ERRORS are words only when whole: TERRORS", None),
        ("E  only two spaces", None),
        ("_______ test_login _______", None),
        ("--------", None),
    ],
)
def test_classify(line: str, kind: str | None) -> None:
    assert classify(line) == kind


@pytest.mark.parametrize(
    ("line", "title", "stage"),
    [
        ("==== stage: upgrade ====", "stage: upgrade", "upgrade"),
        ("── install ──", "install", "install"),
        ("━━━ Backup ━━━", "Backup", "backup"),
        ("##### restore #####", "restore", "restore"),
        ("--- custom tests ---", "custom tests", "custom"),
        ("stage: custom", "custom", "custom"),
        ("[stage] install", "install", "install"),
        ("============ test session starts ============", "test session starts", None),
        ("plain", None, None),
    ],
)
def test_banners(line: str, title: str | None, stage: str | None) -> None:
    assert banner_title(line) == title
    assert banner_stage(line) == stage


def test_marker_index_over_a_spool_with_colours() -> None:
    with LogSpool() as spool:
        spool.append(b"\x1b[1m==== stage: install ====\x1b[0m\nok\n\x1b[31mFAILED\x1b[0m x\n")
        spool.append(b"== stage: upgrade ==\nTERRORS\nE   assert 1\npartial FAILED")
        index = MarkerIndex()
        index.extend(spool)
        assert list(index.banners) == [0, 3]
        assert list(index.failures) == [2, 5]
        spool.append(b"\n")
        index.extend(spool)
        assert list(index.failures) == [2, 5, 6]


def test_quick_rejection_never_hides_a_marker() -> None:
    """classify's one-search prefilter must accept every line the full patterns accept."""
    from redfix_tui.logs import markers

    pieces = ["FAILED", "ERROR", "Traceback", "E   ", "FATA", "!!", "!!!", "PASSED", "==", "--",
              "##", "**", "~~", "──", "━━", "══", "stage", "Stage", "STAGE", "[stage]", "x", " ",
              "install", ":", "_", "-", "=", "E", "e   "]  # fmt: skip
    rng = random.Random(7)
    for _ in range(20000):
        line = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 6)))
        full = (
            "failure"
            if markers.FAILURE.search(line)
            else "banner"
            if markers.BANNER.match(line)
            else "passed"
            if markers.PASSED.search(line)
            else None
        )
        assert classify(line) == full, line
