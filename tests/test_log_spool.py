"""LogSpool: byte spool with an array('Q') index of line starts."""

from __future__ import annotations

import random
from array import array

from redfix_tui.logs.spool import LogSpool


def test_chunks_split_anywhere_give_the_same_lines() -> None:
    data = b"".join(b"line %d \xe2\x9c\x93\r\n" % i if i % 3 else b"l%d\n" % i for i in range(500))
    expected = data.decode().replace("\r\n", "\n").split("\n")[:-1]
    rng = random.Random(4)
    with LogSpool() as spool:
        pos = 0
        while pos < len(data):
            step = rng.randint(1, 40)
            spool.append(data[pos : pos + step])
            pos += step
        assert spool.byte_count == len(data)
        assert spool.line_count == spool.complete_lines == 500
        assert [spool.read_line(i) for i in range(500)] == expected
        assert spool.read_lines(10, 20) == expected[10:20]
        assert all(isinstance(s, array) and s.typecode == "Q" for s, _ in spool._found)


def test_blocks_are_indexed_when_read_and_agree_with_a_plain_split(monkeypatch) -> None:
    """Appends only count newlines; a block's line starts are found on the first read in it,
    whichever block is read first, also from another block's boundary (small blocks here)."""
    import redfix_tui.logs.spool as spool_module

    monkeypatch.setattr(spool_module, "BLOCK", 64)
    rng = random.Random(9)
    lines = [b"x" * rng.choice((0, 1, 5, 30, 70, 200)) for _ in range(400)]
    data = b"\n".join(lines) + b"\ntail"
    starts = [0] + [i + 1 for i, byte in enumerate(data) if byte == 10]
    with LogSpool() as spool:
        pos = 0
        while pos < len(data):
            step = rng.randint(1, 90)
            spool.append(data[pos : pos + step])
            pos += step
        assert len(spool._bases) > 10
        assert not any(len(s) for s, _ in spool._found), "nothing indexed before a read"
        assert spool.line_count == 401 and spool.complete_lines == 400
        assert spool.read_line(400) == "tail"
        assert sum(1 for s, _ in spool._found if len(s)) <= 2, "only the last blocks"
        order = list(range(401))
        rng.shuffle(order)
        for i in order:
            assert spool.line_start(i) == starts[i]
            assert spool.read_line(i) == (lines[i] if i < 400 else b"tail").decode()
        assert spool.line_start(401) == len(data)
        for offset in rng.sample(range(len(data)), 300):
            assert spool.line_at_offset(offset) == max(
                i for i, start in enumerate(starts) if start <= offset
            )
        spool.append(b" more\nend")  # the open block, indexed already, grows
        assert spool.read_line(400) == "tail more" and spool.read_line(401) == "end"


def test_unterminated_last_line_grows() -> None:
    with LogSpool() as spool:
        spool.append(b"one\ntw")
        assert (spool.line_count, spool.complete_lines) == (2, 1)
        assert spool.read_line(1) == "tw"
        spool.append(b"o\nthree")
        assert spool.read_line(1) == "two"
        assert spool.read_line(2) == "three"


def test_crlf_split_across_chunks() -> None:
    with LogSpool() as spool:
        spool.append(b"a\r")
        spool.append(b"\nb\r\n")
        assert [spool.read_line(i) for i in range(spool.line_count)] == ["a", "b"]


def test_invalid_utf8_is_replaced() -> None:
    with LogSpool() as spool:
        spool.append(b"bad \xff\xfe end\n")
        assert spool.read_line(0) == "bad \ufffd\ufffd end"


def test_huge_line_is_indexed_and_readable_in_part() -> None:
    with LogSpool() as spool:
        spool.append(b"before\n")
        for _ in range(16):
            spool.append(b"x" * 65536)
        spool.append(b"\nafter\n")
        assert spool.line_count == 3
        assert spool.line_length(1) == 1 << 20
        assert spool.read_line(1, limit=100) == "x" * 100
        assert spool.read_line(2) == "after"
        assert spool.line_at_offset(7 + 5000) == 1


def test_mark_adds_a_visible_line_even_mid_line() -> None:
    with LogSpool() as spool:
        spool.append(b"partial")
        number = spool.mark("── restarted ──")
        assert number == 1 and spool.marks == [1]
        assert "── restarted ──" in spool.read_line(1)
        spool.append(b"next\n")
        assert spool.read_line(2) == "next"


def test_open_local_file_and_refresh(tmp_path) -> None:
    path = tmp_path / "x.log"
    path.write_bytes(b"1\n2\n")
    spool = LogSpool.open_file(path)
    try:
        assert spool.line_count == 2
        with path.open("ab") as f:
            f.write(b"3\n")
        assert spool.refresh() == 2
        assert spool.read_line(2) == "3"
    finally:
        spool.close()
    assert path.exists(), "closing must not delete the user's file"


def test_temporary_spool_is_deleted_on_close() -> None:
    spool = LogSpool()
    spool.append(b"x\n")
    path = spool.path
    spool.close()
    assert not path.exists()
