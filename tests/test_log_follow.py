"""The follower's framing: data frames and lines, whatever the chunk boundaries."""

from __future__ import annotations

import random

import pytest

from redfix_tui.logs.follow import FrameReader, follower_command


def _events(stream: bytes, cuts: list[int]) -> list[tuple[str, bytes | str]]:
    reader = FrameReader()
    events: list[tuple[str, bytes | str]] = []
    start = 0
    for cut in [*cuts, len(stream)]:
        events += reader.feed(stream[start:cut])
        start = cut
    merged: list[tuple[str, bytes | str]] = []
    for kind, value in events:  # data may come in pieces: join neighbours
        if kind == "data" and merged and merged[-1][0] == "data":
            merged[-1] = ("data", merged[-1][1] + value)  # type: ignore[operator]
        else:
            merged.append((kind, value))
    return merged


def test_frames_survive_any_chunking() -> None:
    payload = b"line 1\nD 99\nH fake\n\x00\xff" + b"x" * 5000
    header = "H same 12 345 0 0 " + "e3" * 32
    stream = header.encode() + b"\n" + b"D %d\n" % len(payload) + payload + b"K\nD 3\nab\nT\n"
    expected = [
        ("line", header),
        ("data", payload),
        ("line", "K"),
        ("data", b"ab\n"),
        ("line", "T"),
    ]
    assert _events(stream, []) == expected
    rng = random.Random(7)
    for _ in range(300):
        cuts = sorted(rng.sample(range(1, len(stream)), rng.randint(1, 30)))
        assert _events(stream, cuts) == expected
    assert _events(stream, list(range(1, len(stream)))) == expected  # one byte at a time


def test_a_runaway_header_is_refused() -> None:
    with pytest.raises(ValueError, match="header line too long"):
        list(FrameReader().feed(b"x" * 10000))


def test_the_command_quotes_the_path() -> None:
    command = follower_command("/tmp/it's; rm -rf x", 10, 42, 10, "ab" * 32)
    assert command.startswith("exec python3 -c '")
    assert command.endswith(" '/tmp/it'\"'\"'s; rm -rf x' 10 42 10 " + "ab" * 32)
