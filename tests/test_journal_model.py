"""Journal model: byte-exact round trips, appends and in-place edits; the flattened reader."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from redfix_tui.journal.flattened import read_flattened, split_title, unflatten
from redfix_tui.journal.model import (
    Entry,
    Header,
    RawText,
    format,
    format_heading,
    parse,
)

WHEN = datetime(2026, 6, 18, 1, 2, 59, 123, tzinfo=UTC)

ODD = {
    "empty": "",
    "preamble": (
        "# JOURNAL — phase `p`\n\nSome preamble text.\n\n## 2026-01-01T00:00Z — one\n\nbody\n"
    ),
    "before-header": "stray first\n# JOURNAL — phase `p`\n## 2026-01-01T00:00Z — one\nbody\n",
    "stray-and-other-styles": (
        "# JOURNAL — phase `p`\n\n## 2026-01-01T00:00Z — one\n\nbody\n\n"
        "## 2026-01-01 00:05 - other style\n\nkept\n\n# Another top heading\nstray\n\n"
        "## 2026-01-01T00:10Z — two\n\nbody two"
    ),
    "crlf": "# JOURNAL — phase `p`\r\n\r\n## 2026-01-01T00:00Z — one\r\n\r\nbody\r\nmore\r\n",
    "no-trailing-newline": "# JOURNAL — phase `p`\n\n## 2026-01-01T00:00Z — one\n\nbody",
    "non-ascii": "# JOURNAL — phase `räd`\n\n## 2026-01-01T00:00Z — Ünïcode → ✓ 日本\n\né — ß\n",
    "fence-with-heading": (
        "# JOURNAL — phase `p`\n\n## 2026-01-01T00:00Z — one\n\n```\n"
        "## 2026-01-01T00:01Z — not an entry\n```\n"
    ),
    "mixed-endings-trailing-space": (
        "# JOURNAL — phase `p`  \n## 2026-01-01T00:00Z — t  \r\nx \n\n\n"
    ),
    "bom": "\ufeff# JOURNAL — phase `p`\n\n## 2026-01-01T00:00Z — one\n",
    "bad-stamp": "# JOURNAL — phase `p`\n\n## 2026-13-45T99:99Z — bogus\n\nkept\n",
}


def test_reference_round_trip_is_byte_exact(reference_journal: Path) -> None:
    data = reference_journal.read_bytes()
    journal = parse(data.decode("utf-8"))
    assert format(journal).encode("utf-8") == data
    assert journal.phase == "redfix"
    titles = [e.title for e in journal.entries]
    assert titles == [
        "Bootstrap",
        "M1: discourse isolation run — CANON ROOT-CAUSE WAS WRONG",
        "M1: mattermost-lts isolation run — DETERMINISTIC restore failure (recipe defect)",
    ]
    assert journal.entries[0].stamp == datetime(2026, 6, 17, 23, 20, tzinfo=UTC)
    assert journal.entries[1].body.startswith("Ran discourse ALONE")
    assert journal.entries[2].body.endswith("node confirmed free.")


@pytest.mark.parametrize("name", sorted(ODD))
def test_odd_inputs_round_trip(name: str) -> None:
    text = ODD[name]
    assert format(parse(text)) == text


def test_odd_inputs_structure() -> None:
    kinds = [type(p) for p in parse(ODD["stray-and-other-styles"]).parts]
    assert kinds == [Header, RawText, Entry, RawText, Entry]
    assert [type(p) for p in parse(ODD["before-header"]).parts] == [RawText, Header, Entry]
    assert [type(p) for p in parse(ODD["preamble"]).parts] == [Header, RawText, Entry]
    fenced = parse(ODD["fence-with-heading"])
    assert len(fenced.entries) == 1 and "not an entry" in fenced.entries[0].body
    assert parse(ODD["bad-stamp"]).entries == []
    assert parse(ODD["bom"]).phase == "p"


def test_format_heading_is_utc_minute() -> None:
    plus2 = timezone(timedelta(hours=2))
    when = datetime(2026, 6, 18, 3, 4, 59, tzinfo=plus2)
    assert format_heading(when, "  a\n title ") == "## 2026-06-18T01:04Z — a title"


def test_append_keeps_existing_bytes_and_conventions(reference_journal: Path) -> None:
    reference = reference_journal.read_text(encoding="utf-8")
    journal, entry = parse(reference).append(WHEN, "New", "line one\n\nline two\n")
    assert journal.text.startswith(reference)
    assert journal.text[len(reference) :] == (
        "\n## 2026-06-18T01:02Z — New\n\nline one\n\nline two\n"
    )
    assert entry.index == 3 and entry.title == "New"
    assert format(parse(journal.text)) == journal.text


@pytest.mark.parametrize(
    ("text", "tail"),
    [
        (ODD["crlf"], "\r\n## 2026-06-18T01:02Z — T\r\n\r\na\r\nb\r\n"),
        (ODD["no-trailing-newline"], "\n\n## 2026-06-18T01:02Z — T\n\na\nb"),
        ("", "## 2026-06-18T01:02Z — T\n\na\nb\n"),
    ],
)
def test_append_follows_line_end_style(text: str, tail: str) -> None:
    journal, _ = parse(text).append(WHEN, "T", "a\nb")
    assert journal.text == text + tail


def test_replace_entry_changes_only_that_entry(reference_journal: Path) -> None:
    reference = reference_journal.read_text(encoding="utf-8")
    journal = parse(reference)
    target = journal.entries[1]
    edited, entry = journal.replace_entry(target, title="Retitled", body="Short body.")
    assert entry.title == "Retitled" and entry.body == "Short body."
    before, after = reference.split(target.raw)
    expected = before + "## 2026-06-17T23:40Z — Retitled\n\nShort body.\n\n" + after
    assert edited.text == expected
    assert [e.title for e in parse(edited.text).entries][0::2] == [
        journal.entries[0].title,
        journal.entries[2].title,
    ]


def test_replace_entry_keeps_crlf_and_missing_final_newline() -> None:
    journal = parse(ODD["crlf"])
    edited, _ = journal.replace_entry(journal.entries[0], body="x\ny")
    assert edited.text == (
        "# JOURNAL — phase `p`\r\n\r\n## 2026-01-01T00:00Z — one\r\n\r\nx\r\ny\r\n"
    )
    journal = parse(ODD["no-trailing-newline"])
    edited, _ = journal.replace_entry(journal.entries[0], body="x")
    assert edited.text.endswith("— one\n\nx")


def test_replace_missing_entry_raises() -> None:
    journal = parse(ODD["preamble"])
    ghost = Entry(WHEN, "ghost", "## 2026-06-18T01:02Z — ghost\n", "\nnope\n")
    with pytest.raises(KeyError):
        journal.replace_entry(ghost, body="x")


def _line_starts(body: str) -> set[int]:
    """Word offsets where a line of ``body`` starts (whitespace-insensitive positions)."""
    starts, pos = set(), 0
    for line in body.split("\n"):
        if line.strip():
            starts.add(pos)
        pos += len(line.split())
    return starts


def test_flattened_reader_recovers_the_reference_entries(
    reference_journal: Path, flattened_journal: Path
) -> None:
    real = parse(reference_journal.read_text(encoding="utf-8"))
    flat_text = flattened_journal.read_text(encoding="utf-8")
    assert "\n" not in flat_text
    recovered = read_flattened(flat_text)
    assert recovered.phase == "redfix"
    assert [e.heading for e in recovered.entries] == [e.heading for e in real.entries]
    assert [e.title for e in recovered.entries] == [e.title for e in real.entries]
    for mine, theirs in zip(recovered.entries, real.entries, strict=True):
        assert mine.body.split() == theirs.body.split()  # no word lost or added
        # every paragraph / list item of the real body starts a line in the recovered one
        assert _line_starts(theirs.body) <= _line_starts(mine.body)
    assert "\n- `test_head_runs_official_image_not_bitnamilegacy`" in recovered.text


def test_flattened_reader_fences_and_titles() -> None:
    assert split_title("Bootstrap Read the plan.") == ("Bootstrap", "Read the plan.")
    assert split_title("M1: Discourse run — WRONG Ran it.") == (
        "M1: Discourse run — WRONG",
        "Ran it.",
    )
    text = unflatten("# JOURNAL — phase `p` ## 2026-01-01T00:00Z — T Saw this: ``` a b ``` Done.")
    assert "Saw this:\n\n```\na b\n```\n\nDone." in text
