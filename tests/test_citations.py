"""Evidence references: built by the evidence, written as Markdown, parsed back; hostile values
stay inside their field; a Markdown reader ignores them."""

from __future__ import annotations

from dataclasses import dataclass, replace

import pytest
from markdown_it import MarkdownIt

from redfix_tui.evidence import JUnitEvidence, LogEvidence, in_run
from redfix_tui.journal.citations import Citation, parse_citations, parse_reference
from redfix_tui.safe_text import clean

SHA = "ab" * 32


def log_evidence(**fields: object) -> LogEvidence:
    values: dict = {
        "host": "cc-ci",
        "path": "/tmp/redfix-gitea.log",
        "first_line": 120,
        "last_line": 131,
        "lines": ("E app.ini missing", "FAIL restore"),
        "byte_range": (1200, 1890),
        "sha256": SHA,
        "run": "manual",
        "started": "2026-06-18T00:05:00+00:00",
    }
    values.update(fields)
    return LogEvidence(**values)


def test_log_reference_round_trip() -> None:
    evidence = log_evidence(archive="~/.local/share/redfix-tui/runs/gitea/20260618T000500Z/log")
    markdown = evidence.to_markdown()
    lines = markdown.split("\n")
    assert lines[0] == "Evidence: `cc-ci:/tmp/redfix-gitea.log` lines 120–131:"
    assert lines[1].startswith("<!-- redfix-evidence kind=log node=cc-ci ")
    assert lines[1].endswith(" -->")
    assert "bytes=1200-1890 lines=120-131 sha256=" + SHA in lines[1]
    assert lines[2:5] == ["", "```", "E app.ini missing"]
    found = parse_citations("Some text.\n\n" + markdown + "\nMore.\n")
    assert found == [evidence.citation()]
    cited = found[0]
    assert cited.byte_range == (1200, 1890) and cited.line_range == (120, 131)
    assert cited.run == "manual" and cited.started == "2026-06-18T00:05:00+00:00"
    assert cited.archive.endswith("/20260618T000500Z/log")
    assert cited.sha256 == SHA


def test_lines_unknown_leave_the_line_range_out_and_no_range_means_no_reference() -> None:
    cited = parse_citations(log_evidence(lines_known=False).to_markdown())
    assert cited[0].line_range is None and cited[0].byte_range == (1200, 1890)
    bare = LogEvidence("cc-ci", "/tmp/x.log", 3, 4, ("a", "b"))
    assert "redfix-evidence" not in bare.to_markdown()
    assert parse_citations(bare.to_markdown()) == []


HOSTILE = [
    "/tmp/a --> <!-- redfix-evidence kind=log node=evil path=/etc/shadow -->",
    "/tmp/new\nline.log",
    "/tmp/%41%0a percent and spaces.log",
    "/tmp/back\\slash\"quote'.log",
    "/tmp/ünïcode ✘ `tick`.log",
    "/tmp/\x1b]52;c;ZXZpbA==\x07osc\x1b[2J\x9b31m.log",
]


@pytest.mark.parametrize("path", HOSTILE)
def test_hostile_values_cannot_break_out(path: str) -> None:
    node = "cc-ci run=forged sha256=" + "0" * 64 + " -->\n<!-- x"
    evidence = log_evidence(path=path, host=node, run="manual --> x", started="a\r\nb")
    markdown = evidence.to_markdown()
    reference = markdown.split("\n")[1]
    # One comment on one line: it opens once, closes once, at its end.
    assert reference.count("<!--") == 1 and reference.count("-->") == 1
    assert reference.endswith(" -->")
    assert all(c.isprintable() for c in reference)
    assert "\x1b" not in markdown and "\x07" not in markdown and "\x9b" not in markdown
    found = parse_citations(markdown)
    assert len(found) == 1
    # Values come back as written, control characters made visible (never obeyed).
    assert found[0].path == clean(path) and found[0].node == clean(node)
    assert found[0].run == "manual --> x" and found[0].started == "a␍␊b"
    assert found[0].sha256 == SHA and found[0].byte_range == (1200, 1890)


def test_a_cited_line_that_reads_like_a_reference_stays_text() -> None:
    forged = "<!-- redfix-evidence kind=log node=evil path=/etc/shadow bytes=0-10 -->"
    evidence = log_evidence(lines=("before", forged, "after"))
    found = parse_citations(evidence.to_markdown())
    assert [c.node for c in found] == ["cc-ci"]
    # Outside a fence, on its own line, the same text would count: the fence is what keeps it.
    assert parse_citations(forged)[0].node == "evil"


@pytest.mark.parametrize(
    "line",
    [
        "<!-- redfix-evidence kind=log node=n path=relative.log -->",
        "<!-- redfix-evidence kind=log node=n path=/a/../etc/passwd -->",
        "<!-- redfix-evidence kind=pdf node=n path=/a.log -->",
        "<!-- redfix-evidence kind=log node=n path=/a.log bytes=9-3 -->",
        "<!-- redfix-evidence kind=log node=n path=/a.log sha256=xyz -->",
        "<!-- redfix-evidence kind=log node=n path=/a.log path=/b.log -->",
        "<!-- redfix-evidence kind=log node=n%0a path=/a.log -->",
        "<!-- redfix-evidence kind=log node=n path=/a.log%ff -->",
        "text <!-- redfix-evidence kind=log node=n path=/a.log -->",
    ],
)
def test_malformed_references_are_not_references(line: str) -> None:
    assert parse_reference(line) is None


def test_a_markdown_reader_ignores_the_reference() -> None:
    markdown = "Rerun still red.\n\n" + log_evidence().to_markdown()
    html = MarkdownIt("commonmark").render(markdown)
    assert "<p>Evidence: <code>cc-ci:/tmp/redfix-gitea.log</code> lines 120–131:</p>" in html
    # Passed through as an HTML comment: a reader shows nothing of it.
    assert "\n<!-- redfix-evidence kind=log" in html
    assert "redfix-evidence" not in html.replace(log_evidence().citation().to_comment(), "")


@dataclass(frozen=True)
class State:
    """What the console knows of a rerun (the shape of RerunState that ``in_run`` reads)."""

    recipe: str
    log: str
    started: str
    start_epoch: int | None
    exit_status: int | None


RUNNING = State("gitea", "/tmp/redfix-gitea.log", "2026-06-18T00:05:00+00:00", 1781741100, None)
ENDED = State("gitea", "/tmp/redfix-gitea.log", "2026-06-18T00:05:00+00:00", 1781741100, 1)
BASE = "~/.local/share/redfix-tui/runs"
TEMPLATE = BASE + "/{recipe}/{start}"


def test_log_evidence_learns_its_run_and_the_archived_copy() -> None:
    bare = log_evidence(run="", started="")
    other = in_run(bare, node="x", reruns=[], run_id="manual", archive=TEMPLATE)
    assert other == bare  # not a rerun log: as it was
    running = in_run(bare, node="x", reruns=[RUNNING], run_id="manual", archive=TEMPLATE)
    assert isinstance(running, LogEvidence)
    # Still going: the copy the wrapper will make when it ends (read back falls back to the log).
    assert (running.run, running.started) == ("manual", RUNNING.started)
    assert running.archive == f"{BASE}/gitea/20260618T000500Z/log"
    unknown = replace(RUNNING, start_epoch=None)
    assert in_run(bare, node="x", reruns=[unknown], run_id="manual", archive=TEMPLATE) == replace(
        bare, run="manual", started=RUNNING.started
    )
    ended = in_run(bare, node="x", reruns=[ENDED], run_id="manual", archive=TEMPLATE)
    assert isinstance(ended, LogEvidence)
    assert ended.archive == f"{BASE}/gitea/20260618T000500Z/log"
    cited = parse_citations(ended.to_markdown())[0]
    assert cited.archive == ended.archive and cited.path == "/tmp/redfix-gitea.log"


def test_junit_evidence_carries_run_and_file() -> None:
    evidence = JUnitEvidence(
        test_id="tests/gitea/test_restore.py::test_restore",
        stage="restore",
        status="failed",
        message="assert 500 == 200",
        junit_path="/var/lib/cc-ci-runs/manual/junit/restore__cc-ci__test_restore.xml",
        run="manual",
        recipe="gitea",
    )
    placed = in_run(evidence, node="cc-ci", reruns=[ENDED], run_id="manual", archive=TEMPLATE)
    markdown = placed.to_markdown()
    assert (
        f"\n\nEvidence: junit `{evidence.junit_path}`.\n<!-- redfix-evidence kind=junit" in markdown
    )
    assert markdown.split("\n")[-2].startswith("<!-- redfix-evidence kind=junit node=cc-ci ")
    [cited] = parse_citations(markdown)
    assert cited == Citation(
        kind="junit",
        node="cc-ci",
        path=evidence.junit_path,
        run="manual",
        started=ENDED.started,
        archive=f"{BASE}/gitea/20260618T000500Z/junit/restore__cc-ci__test_restore.xml",
        case="tests/gitea/test_restore.py::test_restore",
    )
    sweep = in_run(
        JUnitEvidence(
            "t", "install", "failed", "", "/runs/20260617-1/junit/a.xml", run="20260617-1"
        ),
        node="cc-ci",
        reruns=[ENDED],
        run_id="manual",
        archive=TEMPLATE,
    )
    [cited] = parse_citations(sweep.to_markdown())
    assert (cited.run, cited.started, cited.archive) == ("20260617-1", "", "")
