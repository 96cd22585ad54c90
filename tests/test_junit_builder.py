"""The streaming builder: cases find their suite however they are wrapped, results are never
missed, and passing cases become Case objects only when their suite is read."""

from __future__ import annotations

import io
import random
from collections import Counter
from pathlib import Path

import pytest
from lxml import etree

from redfix_tui.junit import Status, load_junit_bytes
from redfix_tui.junit.builder import Builder
from redfix_tui.junit.model import Case, JUnitFile, Run, Suite
from redfix_tui.junit.safe_xml import XMLRejected
from redfix_tui.junit.tree import build_tree, failures
from tests.junit_samples import LOLZ

HEAD = b'<?xml version="1.0" encoding="utf-8"?>\n'


def _load(body: bytes) -> JUnitFile:
    jf = load_junit_bytes("custom__x__t.xml", HEAD + body)
    assert jf.error is None, jf.error
    return jf


def _by_name(jf: JUnitFile) -> dict[str, Case]:
    return {case.name: case for case in jf.iter_cases()}


def test_cases_find_their_suite_through_wrappers_and_at_top_level() -> None:
    jf = _load(
        b'<testsuites name="r"><testcase name="loose1"/>'
        b'<testsuite name="A" time="1,234.5"><system-out>first</system-out><testcase name="a1"/>'
        b'<group><testcase name="wrapped"><skipped/></testcase></group>'
        b'<testsuite name="B"><testcase name="b1"><failure message="m">t</failure></testcase>'
        b'</testsuite><testcase name="a2"/><testsuite name="E"/>'
        b"<system-out>last</system-out><system-out></system-out></testsuite>"
        b"<wrap><testcase name='loose2'/></wrap></testsuites>"
    )
    a, loose = jf.suites  # failing suites first; cases outside any suite in one named as the root
    assert loose.name == "r" and [c.name for c in loose.cases] == ["loose1", "loose2"]
    assert [c.name for c in a.cases] == ["wrapped", "a1", "a2"]  # not passed first
    assert [s.name for s in a.suites] == ["B", "E"] and a.suites[1].counts.total == 0
    assert a.time == 1234.5 and a.stdout == "last"
    assert a.counts.total == 4 and a.counts.failed == 1 and a.counts.skipped == 1
    assert _by_name(jf)["b1"].test_id == "A > B::b1"  # no classname: the suite path


def test_a_result_before_a_nested_case_still_belongs_to_the_outer_case() -> None:
    jf = _load(
        b'<testsuite name="s"><testcase name="outer"><failure message="x"/>'
        b'<testcase name="inner"/></testcase>'
        b'<testcase name="o2"><properties><testcase name="i2"><error/></testcase></properties>'
        b"</testcase></testsuite>"
    )
    cases = _by_name(jf)
    assert cases["outer"].status is Status.FAILED and cases["inner"].status is Status.PASSED
    assert cases["i2"].status is Status.ERROR and cases["o2"].status is Status.PASSED


def test_results_in_other_namespaces_are_not_missed() -> None:
    mixed = _load(
        b'<testsuites xmlns:j="urn:j"><testsuite name="s"><testcase name="c">'
        b'<j:failure message="e"/><j:system-out>o</j:system-out></testcase>'
        b"</testsuite></testsuites>"
    )
    case = _by_name(mixed)["c"]
    assert case.status is Status.FAILED and case.stdout == "o"
    whole = _load(
        b'<testsuites xmlns="urn:x"><testsuite name="pytest">'
        b'<testcase classname="tests.a.test_b" name="ok"><system-out>x</system-out></testcase>'
        b'<testcase classname="tests.a.test_b" name="bad"><failure message="f"/></testcase>'
        b"</testsuite></testsuites>"
    )
    cases = _by_name(whole)
    assert cases["ok"].test_id == "tests/a/test_b.py::ok" and cases["ok"].output_pending
    assert cases["bad"].status is Status.FAILED and whole.counts.total == 2


def test_passing_cases_of_other_runners_keep_their_ids_files_and_lines() -> None:
    jf = _load(
        b'<testsuites><testsuite name="outer"><testsuite name="web">'
        b'<testcase name="renders" classname="ui.Page" file="src/page.js" line="7" time="1,5"/>'
        b'<testcase name="test" classname="test"/><testcase name="bare"/>'
        b'<testcase name="t" classname="tests.a.test_b" file="tests/a/test_b.py" line="3"/>'
        b"</testsuite></testsuite></testsuites>"
    )
    cases = _by_name(jf)
    page = cases["renders"]
    assert (page.test_id, page.file, page.line, page.time) == (
        "ui.Page::renders",
        "src/page.js",
        7,
        15.0,
    )
    assert (
        cases["test"].test_id == "outer > web::test"
        and cases["bare"].test_id == "outer > web::bare"
    )
    assert cases["t"].test_id == "tests/a/test_b.py::t" and cases["t"].line == 3  # pytest's rules


def test_pytest_xunit1_cases_keep_file_and_one_based_line() -> None:
    jf = _load(
        b'<testsuites><testsuite name="pytest">'
        b'<testcase classname="tests.a.test_b.TestK" name="t1" file="tests/a/test_b.py" line="4"/>'
        b'<testcase classname="tests.a.test_b" name="t2" file="tests/a/test_b.py" line="9"/>'
        b"</testsuite></testsuites>"
    )
    cases = _by_name(jf)
    assert cases["t1"].test_id == "tests/a/test_b.py::TestK::t1" and cases["t1"].line == 5
    assert (cases["t2"].test_id, cases["t2"].file, cases["t2"].line) == (
        "tests/a/test_b.py::t2",
        "tests/a/test_b.py",
        10,
    )


def test_a_doctype_past_the_prolog_check_is_still_rejected(tmp_path: Path) -> None:
    """The builder only sees end events; its own checks must still refuse DTDs and entities."""
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET-4242")
    docs = [
        LOLZ,
        b'<?xml version="1.0"?><!DOCTYPE t [<!ENTITY x SYSTEM "file://%s">]>'
        b'<testsuite name="s"><testcase name="c"><failure>&x;</failure></testcase></testsuite>'
        % str(secret).encode(),
        b'<?xml version="1.0"?><!DOCTYPE t [<!ENTITY x "inner">]>'
        b'<testsuite name="s"><testcase name="&x;"/></testsuite>',
    ]
    for doc in docs:
        builder = Builder()
        with pytest.raises(XMLRejected) as raised:  # how fast: benchmarks/bench_guards.py
            builder.feed(io.BytesIO(doc))
        assert "TOPSECRET" not in raised.value.reason and not builder.suites


def _pytest_file(cases: int) -> bytes:
    """xunit2-shaped pytest output: cases 3, 10, 17, ... fail, every case but the 5th has output."""
    body = []
    for i in range(cases):
        result = '<failure message="boom">tests/a/test_b.py:3: E</failure>' if i % 7 == 3 else ""
        out = "" if i == 5 else "<system-out>hi</system-out>"
        body.append(
            f'<testcase classname="tests.a.test_b.TestK" name="t{i}" time="0.{i}">{result}{out}'
            "</testcase>"
        )
    return f'<testsuites><testsuite name="pytest">{"".join(body)}</testsuite></testsuites>'.encode()


def test_passing_cases_become_cases_once_when_their_suite_is_read() -> None:
    jf = _load(_pytest_file(30))
    suite = jf.suites[0]
    assert suite.counts.total == 30 and suite.counts.failed == 4
    tree = build_tree(Run(run_id="r", files=[jf]))
    assert len(failures(tree)) == 4
    assert any(isinstance(row, tuple) for row in suite.passed)  # nothing opened yet
    cases = suite.cases
    assert suite.cases is cases and all(isinstance(c, Case) for c in suite.passed)
    assert [c.status for c in cases[:4]] == [Status.FAILED] * 4
    by_name = {case.name: case for case in cases}
    ok = by_name["t8"]
    assert ok.test_id == "tests/a/test_b.py::TestK::t8" and ok.file == "tests/a/test_b.py"
    assert ok.time == 0.8 and ok.index == 8 and ok.output_pending and ok.outcome is None
    assert not by_name["t5"].output_pending
    assert [c.index for c in cases[4:]] == sorted(c.index for c in cases[4:])


def _random_document(rng: random.Random) -> bytes:
    """A random tree of suites, wrappers and cases with random results."""

    def case() -> str:
        kids = "".join(
            rng.choice(
                [
                    "<system-out>o</system-out>",
                    "<failure message='f'>t</failure>",
                    "<error/>",
                    "<skipped/>",
                    "<flakyFailure message='x'/>",
                    "<properties/>",
                    "<!-- c -->",
                ]
            )
            for _ in range(rng.randrange(3))
        )
        return f'<testcase name="c{rng.randrange(10**6)}" classname="k">{kids}</testcase>'

    def suite(depth: int) -> str:
        parts = []
        for _ in range(rng.randrange(6)):
            pick = rng.random()
            if pick < 0.6 or depth > 2:
                parts.append(case())
            elif pick < 0.8:
                parts.append(suite(depth + 1))
            else:
                parts.append(f"<wrap>{case()}{suite(depth + 1)}</wrap>")
        return f'<testsuite name="s{rng.randrange(10**6)}">{"".join(parts)}</testsuite>'

    top = "".join(suite(1) if rng.random() < 0.7 else case() for _ in range(rng.randrange(1, 5)))
    return f'<testsuites name="root">{top}</testsuites>'.encode()


_RANK = {"failure": Status.FAILED, "error": Status.ERROR, "skipped": Status.SKIPPED}


def _expected(data: bytes) -> Counter[tuple[tuple[str, ...], str, Status]]:
    """(suite path, case name, status) of every case, computed on the whole DOM."""
    found: Counter[tuple[tuple[str, ...], str, Status]] = Counter()
    for elem in etree.fromstring(data).iter("testcase"):
        path = tuple(a.get("name") for a in elem.iterancestors("testsuite"))[::-1] or ("root",)
        tags = {child.tag for child in elem if isinstance(child.tag, str)}
        final = [_RANK[tag] for tag in ("failure", "error", "skipped") if tag in tags]
        status = final[0] if final else Status.FLAKY if "flakyFailure" in tags else Status.PASSED
        found[path, elem.get("name"), status] += 1
    return found


def _actual(suites: list[Suite], path: tuple[str, ...] = ()) -> Counter:
    found: Counter[tuple[tuple[str, ...], str, Status]] = Counter()
    for suite in suites:
        here = (*path, suite.name)
        for case in suite.cases:
            found[here, case.name, case.status] += 1
        found += _actual(suite.suites, here)
    return found


def test_streamed_model_matches_the_whole_document() -> None:
    rng = random.Random(4)
    for _ in range(200):
        data = _random_document(rng)
        jf = _load(data)
        assert _actual(jf.suites) == _expected(data), data.decode()
        assert jf.counts.total == sum(_expected(data).values())
