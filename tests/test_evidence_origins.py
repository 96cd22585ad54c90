"""Evidence cites the file, not the spool: byte ranges, line numbers and hashes of the file on
the node across marker lines, rotation and a spool that starts mid-file; reading a cited range
back with a quoted command."""

from __future__ import annotations

import contextlib
import hashlib
import subprocess
from pathlib import Path

import pytest

from redfix_tui.journal.citations import Citation
from redfix_tui.logs.excerpt import (
    ExcerptError,
    excerpt_command,
    excerpt_spool,
    fetch_cited,
)
from redfix_tui.logs.origins import cite_lines, locate, log_evidence, record
from redfix_tui.logs.spool import LogSpool

FILE = b"".join(b"line %d of the log\n" % n for n in range(1, 11))


def offset_of(line: int, data: bytes = FILE) -> int:
    """Byte offset where 1-based ``line`` starts in ``data``."""
    return sum(len(x) + 1 for x in data.split(b"\n")[: line - 1])


def test_lines_after_a_marker_and_a_rotation_cite_their_file() -> None:
    with LogSpool() as spool:
        spool.mark("── the console's own line ──")
        record(spool, 0, FILE[:50])
        record(spool, 50, FILE[50:])  # a resume after a drop: one run of the file
        spool.mark("── log replaced: following the new file from its start ──")
        new = b"new 1\nnew 2\nnew 3\n"
        record(spool, 0, new)
        # spool line 0 is the marker; file line n is spool line n.
        cited = cite_lines(spool, 4, 6)
        assert cited is not None
        start, end = offset_of(4), offset_of(7) - 1
        assert cited.byte_range == (start, end)
        assert cited.line_range == (4, 6)
        assert cited.sha256 == hashlib.sha256(FILE[start:end]).hexdigest()
        # The new file's second line: spool line 12 (marker, 10 lines, marker, new 1).
        again = cite_lines(spool, 13, 13)
        assert again is not None and again.line_range == (2, 2)
        assert again.byte_range == (6, 11)
        assert cite_lines(spool, 0, 0) is None  # the console's own line
        assert cite_lines(spool, 10, 12) is None  # across the rotation
        found = locate(spool, (start, end), cited.sha256)
        assert found is not None and (found.first, found.last, found.matches) == (4, 6, True)
        # The same offsets in the new file hold other bytes: found there, but changed.
        changed = locate(spool, (6, 11), hashlib.sha256(b"other").hexdigest())
        assert changed is not None and not changed.matches
        assert locate(spool, (0, 10_000), cited.sha256) is None


def test_a_spool_started_mid_file_cites_bytes_but_no_line_numbers() -> None:
    with LogSpool() as spool:
        record(spool, offset_of(6), FILE[offset_of(6) :])
        evidence = log_evidence(spool, "cc-ci", "/var/log/x.log", 2, 3, ["line 7", "line 8"])
        assert evidence.byte_range == (offset_of(7), offset_of(9) - 1)
        assert not evidence.lines_known
        citation = evidence.citation()
        assert citation is not None and citation.line_range is None
        assert evidence.sha256 == hashlib.sha256(FILE[offset_of(7) : offset_of(9) - 1]).hexdigest()


def test_a_local_file_is_its_own_origin(tmp_path: Path) -> None:
    path = tmp_path / "local.log"
    path.write_bytes(FILE)
    spool = LogSpool.open_file(path)
    try:
        evidence = log_evidence(spool, "", str(path), 9, 10, ["line 9", "line 10"])
        assert (evidence.first_line, evidence.last_line) == (9, 10)
        assert evidence.byte_range == (offset_of(9), len(FILE) - 1)
    finally:
        spool.close()


def test_excerpt_spool_keeps_the_file_place() -> None:
    data = FILE[offset_of(4) : offset_of(6) - 1]
    citation = Citation(
        "log",
        "cc-ci",
        "/tmp/x.log",
        byte_range=(offset_of(4), offset_of(6) - 1),
        line_range=(4, 5),
        sha256=hashlib.sha256(data).hexdigest(),
    )
    from redfix_tui.logs.excerpt import Fetched

    spool = excerpt_spool(citation, Fetched("/tmp/x.log", data, True))
    try:
        assert spool.read_line(0).startswith("\x1b[1;7m── cited lines 4–5 of cc-ci:/tmp/x.log")
        assert spool.read_line(1) == "line 4 of the log"
        again = log_evidence(spool, "cc-ci", "/tmp/x.log", 2, 3, ["", ""])
        assert again.citation() is not None
        assert again.byte_range == citation.byte_range and again.sha256 == citation.sha256
        assert (again.first_line, again.last_line) == (4, 5)
    finally:
        spool.close()


WEIRD = "we$(touch pwned) 'ird\" `x` name.log"


def test_excerpt_command_reads_the_byte_range_of_any_file_name(tmp_path: Path) -> None:
    path = tmp_path / WEIRD
    path.write_bytes(FILE)
    command = excerpt_command(str(path), offset_of(3), offset_of(5) - 1)
    done = subprocess.run(["sh", "-c", command], capture_output=True, cwd=tmp_path, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout == FILE[offset_of(3) : offset_of(5) - 1]
    assert not (tmp_path / "pwned").exists()
    gone = subprocess.run(
        ["sh", "-c", excerpt_command(str(tmp_path / "gone.log"), 0, 5)],
        capture_output=True,
        check=False,
    )
    assert gone.returncode == 2 and b"no readable file" in gone.stderr


def test_excerpt_command_under_home_and_refusals() -> None:
    assert excerpt_command("~/runs/a b/log", 0, 4).startswith("f=\"$HOME\"/'runs/a b/log'; ")
    for bad in ("relative.log", "/a/../etc/shadow", "/a\nb", "/a\x1b]0;x\x07"):
        with pytest.raises(ExcerptError):
            excerpt_command(bad, 0, 4)
    with pytest.raises(ExcerptError):
        excerpt_command("/a.log", 10, 4)


async def test_fetch_prefers_the_archived_copy_over_ssh(node, tmp_path: Path) -> None:
    """Over the in-process SSH server."""
    await fetch_archive_then_log(node, tmp_path)


async def test_fetch_prefers_the_archived_copy_over_openssh(sshd_node, tmp_path: Path) -> None:
    """Over OpenSSH's sshd."""
    await fetch_archive_then_log(sshd_node, tmp_path)


async def fetch_archive_then_log(node, tmp_path: Path) -> None:
    """The archive holds the cited bytes, the log was overwritten by the next rerun; without
    the archive, the log is read and is changed; without either, one line says so."""
    log = tmp_path / "redfix-gitea.log"
    archive = tmp_path / "archive" / "log"
    archive.parent.mkdir()
    archive.write_bytes(FILE)
    log.write_bytes(FILE.replace(b"line 4", b"LINE 4"))
    start, end = offset_of(4), offset_of(5) - 1
    cited = Citation(
        "log",
        node.host_label,
        str(log),
        archive=str(archive),
        byte_range=(start, end),
        line_range=(4, 4),
        sha256=hashlib.sha256(FILE[start:end]).hexdigest(),
    )
    fetched = await fetch_cited(node, cited)
    assert (fetched.path, fetched.data, fetched.matches) == (str(archive), FILE[start:end], True)
    archive.unlink()
    fetched = await fetch_cited(node, cited)
    assert fetched.path == str(log) and not fetched.matches
    assert fetched.data == b"LINE 4 of the log"
    assert "no readable file" in fetched.tried[0]
    log.unlink()
    with pytest.raises(ExcerptError, match="cannot read the cited lines"):
        await fetch_cited(node, cited)


def test_a_local_file_is_cited_by_its_absolute_path_and_read_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from redfix_tui.logs.excerpt import read_local

    monkeypatch.chdir(tmp_path)
    Path("run.log").write_bytes(FILE)
    spool = LogSpool.open_file("run.log")
    try:
        evidence = log_evidence(spool, "", "run.log", 2, 3, ["", ""])
    finally:
        spool.close()
    citation = evidence.citation()
    assert citation is not None and citation.path == str(tmp_path / "run.log")
    assert read_local(citation).matches
    Path("run.log").write_bytes(FILE.replace(b"line 2", b"LINE 2"))
    assert not read_local(citation).matches
    Path("run.log").unlink()
    with pytest.raises(ExcerptError, match="cannot read"):
        read_local(citation)


async def test_a_real_tail_records_file_offsets_from_its_start_offset_and_after_a_rotation(
    node, tmp_path: Path
) -> None:
    """Through RemoteTail over SSH: started mid-file, then the file replaced (mv + create):
    cited lines are the file's bytes, with line numbers only where the file's start was seen."""
    import asyncio
    import os
    import time

    from redfix_tui.logs.tail import Backoff, RemoteTail

    log = tmp_path / "redfix-gitea.log"
    log.write_bytes(FILE)
    spool = LogSpool()
    tail = RemoteTail(node, str(log), spool, offset=offset_of(5), backoff=Backoff(0.2, 0.2))
    task = asyncio.create_task(tail.run())

    async def wait(check) -> None:
        deadline = time.monotonic() + 30
        while not check():
            assert time.monotonic() < deadline, "condition not met within 30s"
            await asyncio.sleep(0.05)

    try:
        await wait(lambda: spool.complete_lines == 6)  # file lines 5..10
        first = log_evidence(spool, "n", str(log), 2, 3, ["", ""])
        assert first.byte_range == (offset_of(6), offset_of(8) - 1)
        assert not first.lines_known
        assert first.sha256 == hashlib.sha256(FILE[offset_of(6) : offset_of(8) - 1]).hexdigest()
        new = b"fresh 1\nfresh 2\nfresh 3\n"
        (tmp_path / "new.log").write_bytes(new)
        os.replace(tmp_path / "new.log", log)
        await wait(lambda: spool.complete_lines == 6 + 1 + 3)  # a marker, the new file
        again = log_evidence(spool, "n", str(log), 9, 10, ["", ""])
        assert again.lines_known and (again.first_line, again.last_line) == (2, 3)
        assert again.byte_range == (8, len(new) - 1)
        assert log_evidence(spool, "n", str(log), 6, 8, ["", "", ""]).byte_range is None
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        spool.close()
