"""Node files are input: the defensive JSON reader and the framed many-file reader."""

from __future__ import annotations

import io
import json
import os
import subprocess
import tarfile
from pathlib import Path

import pytest

from redfix_tui.node_json import (
    MAX_BYTES,
    MAX_DEPTH,
    NodeJSONError,
    describe,
    load_json,
    load_object,
    nesting_depth,
    printable,
)
from redfix_tui.node_read import listing_command, parse_listing, read_many


def test_deep_nesting_is_refused_before_json_recurses() -> None:
    deep = "[" * 100_000 + "]" * 100_000
    with pytest.raises(NodeJSONError, match=r"results\.json: nested deeper than 64 levels"):
        load_json(deep, "results.json")  # how fast: benchmarks/bench_guards.py
    with pytest.raises(NodeJSONError, match="nested deeper"):
        load_json(('{"a":' * 70_000) + "1" + "}" * 70_000, "canonical.json")
    # Just at the limit is fine; one more is not.
    ok = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    assert load_json(ok, "x")[0] is not None
    with pytest.raises(NodeJSONError):
        load_json("[" + ok + "]", "x")


def test_brackets_inside_strings_do_not_count() -> None:
    text = json.dumps({"log": "[" * 10_000 + '\\"{' * 500, "n": [[1]]})
    value, notes = load_json(text, "x")
    assert value["n"] == [[1]] and notes == []
    assert nesting_depth(text) == 3


@pytest.mark.parametrize(
    ("number", "word"),
    [("NaN", "NaN"), ("Infinity", "Infinity"), ("-Infinity", "-Infinity"), ("1e400", "1e400")],
)
def test_non_finite_numbers_are_absent_and_noted(number: str, word: str) -> None:
    value, notes = load_json(f'{{"ms": {number}, "ok": 1.5}}', "results.json")
    assert value == {"ms": None, "ok": 1.5}
    assert notes == [
        f"results.json: {word} is "
        + ("out of range" if word == "1e400" else "not a number")
        + "; treated as absent"
    ]


def test_size_cap_names_file_and_sizes() -> None:
    data = b" " * (17 * 1024 * 1024)
    with pytest.raises(NodeJSONError) as info:
        load_json(data, "results.json")
    assert str(info.value) == "results.json is 17 MiB, over the 16 MiB limit"
    assert len(data) > MAX_BYTES


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\xff\xfe{}", "not UTF-8 text"),
        (b'{"a": 1', "not valid JSON (Expecting ',' delimiter at line 1 column 8)"),
        (b'{"a": 1}\x00\x00\x00', "holds NUL bytes (still being written?)"),
        (b"[1, 2]", "a list, expected a JSON object"),
        (b'"x"', "a string ('x'), expected a JSON object"),
        (b'{"n": ' + b"9" * 5000 + b"}", "not valid JSON (Exceeds the limit"),
    ],
)
def test_bad_files_are_one_line_reasons(data: bytes, reason: str) -> None:
    with pytest.raises(NodeJSONError) as info:
        load_object(data, "f.json")
    message = str(info.value)
    assert message.startswith("f.json: ") and reason in message and "\n" not in message


def test_bom_and_describe() -> None:
    assert load_object(b'\xef\xbb\xbf{"a": true}', "x") == ({"a": True}, [])
    assert describe(5) == "an integer (5)" and describe(None) == "null"
    assert describe(True) == "a boolean (true)" and describe({}) == "an object"
    assert printable("a\nb\x1b[2J") == "a\\nb\\x1b[2J"


def test_listing_records_and_archive_are_parsed() -> None:
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w") as tar:
        for name, content in [("a\nb/results.json", b"B 3 x\x00{}"), ("empty/results.json", b"")]:
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    stream = b"B 20000000 big/results.json\x00\x00" + archive.getvalue()
    files, problem = parse_listing(stream)
    assert problem == ""
    assert [(f.path, f.data) for f in files] == [
        ("big/results.json", None),
        ("a\nb/results.json", b"B 3 x\x00{}"),
        ("empty/results.json", b""),
    ]
    assert files[0].problem == "big/results.json is 19.1 MiB, over the 16 MiB limit"
    files, problem = parse_listing(stream[:545])  # inside the first file
    assert [f.path for f in files] == ["big/results.json"] and "cut off" in problem
    assert parse_listing(b"X 1 a\x00\x00")[1] == "unexpected record 'X 1 a' in the listing"
    assert parse_listing(b"") == ([], "")


def sh(command: str) -> bytes:
    """Run ``command`` in /bin/sh as the node would."""
    result = subprocess.run(["/bin/sh", "-c", command], capture_output=True, check=True)
    return result.stdout


def test_listing_reads_whole_files_newest_first(tmp_path: Path) -> None:
    runs = tmp_path / "runs dir"
    files = {
        "old": b'{"a": 1}',
        "new\nline": b"B 5 fake\x00\x00" + b"x" * 300_000,
        "empty": b"",
        "huge": b"y" * 2000,
    }
    for number, (name, content) in enumerate(files.items()):
        path = runs / name / "results.json"
        path.parent.mkdir(parents=True)
        path.write_bytes(content)
        os.utime(path, (1_700_000_000 + number, 1_700_000_000 + number))
    (runs / "no-results").mkdir()
    (runs / "deeper" / "x").mkdir(parents=True)
    (runs / "deeper" / "x" / "results.json").write_text("{}")
    read, problem = parse_listing(
        sh(listing_command(str(runs), "results.json", limit=1000)), limit=1000
    )
    assert problem == ""
    # The files over the limit first (as records), then the others newest first.
    assert sorted(f.path for f in read[:2]) == ["huge/results.json", "new\nline/results.json"]
    assert [f.path for f in read[2:]] == ["empty/results.json", "old/results.json"]
    by_path = {f.path.split("/")[0]: f for f in read}
    assert by_path["huge"].data is None and "over the 1000 bytes limit" in by_path["huge"].problem
    assert by_path["new\nline"].data is None  # 300,009 bytes, over this test's limit
    assert by_path["empty"].data == b"" and by_path["old"].data == b'{"a": 1}'
    whole, problem = parse_listing(sh(listing_command(str(runs), "results.json")))
    assert problem == "" and [f.path.split("/")[0] for f in whole] == list(files)[::-1]
    assert [f.data for f in whole] == list(files.values())[::-1]
    assert sh(listing_command(str(tmp_path / "missing"), "results.json")) == b""
    # A name that is not UTF-8 is read too; its path is escaped when printed.
    odd = os.path.join(os.fsencode(runs), b"bad-\xff\x1b[2J")
    os.mkdir(odd)
    with open(os.path.join(odd, b"results.json"), "wb") as out:
        out.write(b"{}")
    read, problem = parse_listing(sh(listing_command(str(runs), "results.json")))
    assert problem == "" and len(read) == 5
    strange = [f for f in read if f.path.startswith("bad-")]
    assert len(strange) == 1 and strange[0].data == b"{}"
    assert printable(strange[0].path) == "bad-\\udcff\\x1b[2J/results.json"


async def test_read_many_stops_at_its_budget(node, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    for number in range(6):
        path = runs / f"run{number}" / "results.json"
        path.parent.mkdir(parents=True)
        path.write_bytes(b"[" + b"0," * 4000 + b"0]")
        os.utime(path, (1_700_000_000 + number, 1_700_000_000 + number))
    files, problem = await read_many(node, str(runs), "results.json")
    assert problem == "" and [f.path for f in files] == [
        f"run{n}/results.json" for n in reversed(range(6))
    ]
    files, problem = await read_many(node, str(runs), "results.json", budget=20_000)
    assert 1 <= len(files) < 6 and files[0].path == "run5/results.json"
    assert all(f.data == b"[" + b"0," * 4000 + b"0]" for f in files)
    assert problem == (
        f"{runs}: stopped after 19 KiB of results.json files ({len(files)} read); "
        "older ones were not read"
    )
