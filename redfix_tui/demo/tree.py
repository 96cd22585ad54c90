"""The simulated cc-ci node: a directory tree shaped like cc-ci, plus fake system tools.

:func:`build_demo_node` lays out, under a root directory::

    bin/                      systemctl, docker, cc-ci-run, python3 (fakes; first on PATH)
    etc/cc-ci/                the harness: conftest.py, pytest.ini, tests/<recipe>/test_*.py,
                              runner/{run_recipe_ci.py, abra.py, nightly_sweep.py, demo.json}
    var/lib/ci-warm/<recipe>/canonical.json
    var/lib/cc-ci-runs/{sweep-202606{14..17}T0300Z-<recipe>,manual}/  results.json, junit/, …
    var/lib/redfix-demo/      state the fakes read: stacks, sweep_next, latest-tags, checkout/
    usr/share/redfix-demo/fixtures/   the JUnit/console fixtures the runner replays
    tmp/redfix-<recipe>.log   logs of past isolation reruns
    home/.local/share/redfix-tui/runs/<recipe>/<start>/   the archived past isolation reruns
    home/                     $HOME for the server's commands

Past runs are produced by the same replay as a live rerun (:mod:`.runner_script`), with time
made virtual, so they match what a rerun writes byte for byte in shape.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shlex
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from redfix_tui.demo import runner_script

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "fixtures"
SUITES = HERE / "suites"
SWEEP_ID = "sweep-20260617T0300Z-{recipe}"
SWEEP_START = dt.datetime(2026, 6, 17, 3, 0, tzinfo=dt.UTC)


def _sha(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


def _recipe(
    tag: str,
    previous: str,
    domain: str,
    services: dict[str, str],
    canonical: tuple[str, str] | None,
    head: str = "",
) -> dict[str, Any]:
    name = domain.split(".")[0]
    return {
        "tag": tag,
        "previous": previous,
        "domain": domain,
        "services": services,
        "commit": head or _sha(f"{name}@{tag}"),
        "canonical": None
        if canonical is None
        else {
            "version": canonical[0],
            "commit": _sha(f"{name}@{canonical[0]}"),
            "status": "green",
            "ts": canonical[1],
        },
    }


RECIPES: dict[str, dict[str, Any]] = {
    "discourse": _recipe(
        "0.8.1+3.5.0",
        "0.8.0+3.4.6",
        "discourse.ci.coopcloud.tech",
        {
            "app": "bitnamilegacy/discourse:3.5.0",
            "db": "bitnamilegacy/postgresql:13.18.0",
            "redis": "bitnamilegacy/redis:7.4.2",
            "sidekiq": "bitnamilegacy/discourse:3.5.0",
        },
        ("0.8.0+3.4.6", "20260610T041233Z"),
        head="f87c612d" + _sha("discourse")[8:],
    ),
    "mattermost-lts": _recipe(
        "2.1.9+10.11.15",
        "2.1.8+10.11.14",
        "mattermost-lts.ci.coopcloud.tech",
        {"app": "mattermost/mattermost-team-edition:10.11.15", "postgres": "postgres:15"},
        ("2.1.8+10.11.14", "20260603T032918Z"),
    ),
    "mumble": _recipe(
        "1.0.0+v1.6.870-0",
        "0.9.0+v1.5.735-2",
        "mumble.ci.coopcloud.tech",
        {"app": "mumblevoip/mumble-server:v1.6.870-0", "web": "nginx:1.27"},
        ("1.0.0+v1.6.870-0", "20260617T180501Z"),
    ),
    "bluesky-pds": _recipe(
        "0.3.2+v0.4.158",
        "0.3.1+v0.4.138",
        "pds.ci.coopcloud.tech",
        {"app": "ghcr.io/bluesky-social/pds:0.4.158"},
        None,
    ),
    "gitea": _recipe(
        "3.4.1+1.24.5-rootless",
        "3.4.0+1.24.3-rootless",
        "gitea.ci.coopcloud.tech",
        {"app": "gitea/gitea:1.24.5-rootless", "db": "mariadb:11.4"},
        ("3.4.0+1.24.3-rootless", "20260524T035510Z"),
    ),
    "keycloak": _recipe(
        "10.2.0+26.3.2",
        "10.1.1+26.2.5",
        "keycloak.ci.coopcloud.tech",
        {"app": "quay.io/keycloak/keycloak:26.3.2", "db": "postgres:16"},
        ("10.1.1+26.2.5", "20260611T034402Z"),
    ),
}
"""The six recipes of the reference journal: tags, domains, services, canonical state."""
HISTORY_NIGHTS = (
    (dt.timedelta(days=3), "previous"),
    (dt.timedelta(days=2), "previous"),
    (dt.timedelta(days=1), "tag"),
)
"""Nightly sweeps before :data:`SWEEP_START`, and the tag each ran on: two green nights on the
previous tag, then the current tag failing as on the last night (so "failing since" has an
answer, and the sweep and isolation attempts give a flake and a deterministic failure)."""
FLAKY_NIGHT = ("discourse", dt.timedelta(days=1))
"""The night discourse's sweep passed on the current tag: its upgrade is a flake (1 of 2)."""
SINGLE_ATTEMPT = "keycloak"
"""The recipe whose current tag reached the sweep only last night (every earlier night ran,
green, on the previous tag): its failing backup rests on one attempt."""
PAST_RERUNS = (
    ("discourse", dt.datetime(2026, 6, 17, 23, 19, 12, tzinfo=dt.UTC)),
    ("mattermost-lts", dt.datetime(2026, 6, 17, 23, 43, 40, tzinfo=dt.UTC)),
)
"""Isolation reruns already done (the last one owns ``manual/``), as in the journal."""
ARCHIVED_RERUNS = ("mattermost-lts",)
"""The past reruns in the run archive (the earlier one predates it, so the board's Iso column
looks as before: mattermost-lts's run, in manual/ and archived alike)."""


def ere_escape(text: str) -> str:
    """Escape ``text`` for a POSIX extended regular expression (as pgrep reads it)."""
    return "".join(f"\\{c}" if c in ".[]()*+?{}|^$\\" else c for c in text)


@dataclass
class DemoNode:
    """A built demo node: its root, its recipes and how to configure a console for it."""

    root: Path
    recipes: tuple[str, ...] = field(default_factory=lambda: tuple(RECIPES))

    @property
    def harness(self) -> Path:
        """The harness checkout (``/etc/cc-ci`` on the real node)."""
        return self.root / "etc" / "cc-ci"

    @property
    def runner(self) -> Path:
        """The fake runner's absolute path (what ``in_flight`` looks for)."""
        return self.harness / "runner" / "run_recipe_ci.py"

    @property
    def runs_root(self) -> Path:
        """Per-run artifacts (``/var/lib/cc-ci-runs``)."""
        return self.root / "var" / "lib" / "cc-ci-runs"

    @property
    def warm_root(self) -> Path:
        """Canonical state (``/var/lib/ci-warm``)."""
        return self.root / "var" / "lib" / "ci-warm"

    @property
    def archive(self) -> Path:
        """The isolation run archive (``~/.local/share/redfix-tui/runs`` of the SSH user)."""
        return self.root / "home" / ".local" / "share" / "redfix-tui" / "runs"

    @property
    def state(self) -> Path:
        """State read by the fake tools: ``stacks``, ``sweep_next``, ``latest-tags``."""
        return self.root / "var" / "lib" / "redfix-demo"

    @property
    def stacks_file(self) -> Path:
        """One stack name per line; what the fake ``docker stack ls`` prints."""
        return self.state / "stacks"

    @property
    def sweep_next_file(self) -> Path:
        """Epoch seconds of the next sweep; the fake ``systemctl`` answers ``@<epoch>``."""
        return self.state / "sweep_next"

    def set_sweep_next(self, epoch: int) -> None:
        """Move the sweep timer (tests use this to exercise the rerun guard)."""
        self.sweep_next_file.write_text(f"{int(epoch)}\n", encoding="utf-8")

    def env(self, base_path: str | None = None) -> dict[str, str]:
        """Return PATH and HOME for commands run on this node (the fakes come first)."""
        path = base_path if base_path is not None else os.environ.get("PATH", "/usr/bin:/bin")
        return {"PATH": f"{self.root / 'bin'}:{path}", "HOME": str(self.root / "home")}

    def in_flight_command(self) -> str:
        """A pgrep that matches only this node's runner processes and never itself."""
        text = str(self.runner)
        return "pgrep -af " + shlex.quote(f"[{text[0]}]" + ere_escape(text[1:]))

    def config_overrides(self) -> dict[str, dict[str, Any]]:
        """Config tables for :func:`redfix_tui.config.config_from_dict` pointing at this node."""
        tags = shlex.quote(str(self.state / "latest-tags"))
        return {
            "paths": {
                "harness": str(self.harness),
                "runs_root": str(self.runs_root),
                "warm_root": str(self.warm_root),
                "rerun_log": str(self.root / "tmp" / "redfix-{recipe}.log"),
                "rerun_state": str(self.root / "tmp" / "redfix-{recipe}.rerun"),
                "archive": str(self.archive / "{recipe}" / "{start}"),
            },
            "commands": {
                "latest_tag": f"awk -v r={{recipe}} '$1 == r {{print $2}}' {tags}",
                "in_flight": self.in_flight_command(),
            },
        }


def _write(path: Path, text: str, mode: int | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    if mode is not None:
        path.chmod(mode)


def _fake_tools(node: DemoNode, python: str) -> None:
    """Write the fake executables into ``<root>/bin``."""
    bin_dir = node.root / "bin"
    state = shlex.quote(str(node.state))
    py = shlex.quote(python)
    tools = {
        "python3": f'exec {py} "$@"\n',
        "cc-ci-run": (
            "# cc-ci-run: run a harness script with the harness python, by absolute path\n"
            'script=$1; shift\ncase $script in /*) ;; *) script="$PWD/$script" ;; esac\n'
            f'exec {py} "$script" "$@"\n'
        ),
        "systemctl": (
            f"state={state}\n"
            'case "$*" in\n'
            "  *NextElapseUSecRealtime*nightly-sweep.timer*)\n"
            '    echo "@$(cat "$state/sweep_next")" ;;\n'
            "  *list-timers*)\n"
            '    next=$(cat "$state/sweep_next")\n'
            "    echo 'NEXT                        LEFT UNIT                ACTIVATES'\n"
            '    echo "$(date -u -d "@$next" "+%a %Y-%m-%d %H:%M:%S UTC") -  '
            'nightly-sweep.timer nightly-sweep.service" ;;\n'
            '  *) echo "systemctl (demo node): unsupported: $*" >&2; exit 1 ;;\n'
            "esac\n"
        ),
        "docker": (
            f"state={state}\n"
            'if [ "$1" = stack ] && [ "$2" = ls ]; then\n'
            '  case "$*" in\n'
            '    *--format*) cat "$state/stacks" ;;\n'
            "    *) echo 'NAME                               SERVICES'\n"
            '       while read -r n; do printf "%-34s %s\\n" "$n" 1; done < "$state/stacks" ;;\n'
            "  esac\n"
            "  exit 0\n"
            "fi\n"
            'echo "docker (demo node): unsupported: $*" >&2\nexit 1\n'
        ),
    }
    for name, body in tools.items():
        _write(bin_dir / name, f"#!/bin/sh\n# redfix-tui demo node: fake {name}\n{body}", 0o755)


ABRA_PY = '''"""abra helpers of the cc-ci harness (demo node: the checkout is simulated)."""

import json
import sys
from pathlib import Path

CFG = json.loads(Path(__file__).with_name("demo.json").read_text(encoding="utf-8"))


def recipe_checkout(recipe, tag):
    """Check out ``recipe`` at ``tag`` in ~/.abra/recipes (here: record it for the runner)."""
    meta = CFG["recipes"].get(recipe)
    if meta is None or tag not in (meta["tag"], meta["previous"]):
        print(f"FATA unable to check out {recipe} at {tag}: reference not found", file=sys.stderr)
        raise SystemExit(1)
    state = Path(CFG["state"]) / "checkout"
    state.mkdir(parents=True, exist_ok=True)
    (state / recipe).write_text(tag + "\\n", encoding="utf-8")
    commit = meta["commit"][:8] if tag == meta["tag"] else "0" * 8
    print(f"INFO {recipe}: checked out {tag} ({commit}) in ~/.abra/recipes/{recipe}")
'''

NIGHTLY_PY = '''"""The nightly canonical sweep (demo node stub: the timer never runs it here)."""

import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import abra  # noqa: E402


def run_on_tag(recipe, tag):
    """Check out ``tag`` and run the recipe cold and full, as an isolation rerun does."""
    abra.recipe_checkout(recipe, tag)
    env = {**os.environ, "RECIPE": recipe, "CCCI_SKIP_FETCH": "1"}
    runner = Path(__file__).with_name("run_recipe_ci.py")
    return subprocess.call([sys.executable, str(runner)], env=env)


if __name__ == "__main__":
    print("nightly_sweep: driven by nightly-sweep.timer; not started on the demo node")
'''


def build_demo_node(
    root: Path, *, python: str = sys.executable, speed: float = 1.0, history: bool = True
) -> DemoNode:
    """Lay out a simulated cc-ci node under ``root`` (created if needed) and return it.

    ``python`` runs the fake tools and the runner; ``speed`` scales a rerun's ~60 s (the runner's
    ``$REDFIX_DEMO_SPEED`` overrides it). ``history`` (on unless a test asks for a bare node)
    adds the earlier nights' sweeps (:data:`HISTORY_NIGHTS`) and the run archive of the past
    reruns (:data:`ARCHIVED_RERUNS`): the ledger then holds several nights of sweeps, a flake
    (discourse's upgrade), a deterministic failure (mattermost-lts's restore, in the sweep and
    alone), a failure on one attempt (:data:`SINGLE_ATTEMPT`) and failures with no isolation run
    yet, each with an answer to "failing since".
    """
    root = Path(root).resolve()
    root.mkdir(parents=True, exist_ok=True)
    node = DemoNode(root)
    for sub in ("home", "tmp", "var/lib/redfix-demo/checkout"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    _fake_tools(node, python)

    shared = root / "usr" / "share" / "redfix-demo" / "fixtures"
    shutil.copytree(FIXTURES, shared, dirs_exist_ok=True)
    runner_dir = node.harness / "runner"
    runner_dir.mkdir(parents=True, exist_ok=True)
    cfg = {
        "runs_root": str(node.runs_root),
        "state": str(node.state),
        "fixtures": str(shared),
        "speed": speed,
        "manual_run_id": "manual",
        "recipes": RECIPES,
    }
    _write(runner_dir / "demo.json", json.dumps(cfg, indent=1) + "\n")
    shutil.copyfile(HERE / "runner_script.py", node.runner)
    _write(runner_dir / "abra.py", ABRA_PY)
    _write(runner_dir / "nightly_sweep.py", NIGHTLY_PY)
    shutil.copyfile(SUITES / "conftest.py", node.harness / "conftest.py")
    _write(node.harness / "pytest.ini", "[pytest]\njunit_family = xunit1\n")
    for recipe in RECIPES:
        shutil.copytree(
            SUITES / recipe,
            node.harness / "tests" / recipe,
            dirs_exist_ok=True,
            ignore=shutil.ignore_patterns("__pycache__"),
        )

    for recipe, meta in RECIPES.items():
        if meta["canonical"]:
            _write(
                node.warm_root / recipe / "canonical.json",
                json.dumps(meta["canonical"], indent=2) + "\n",
            )
    _write(node.state / "latest-tags", "".join(f"{r} {m['tag']}\n" for r, m in RECIPES.items()))
    _write(node.stacks_file, "traefik_ci_coopcloud_tech\n")
    sweep = (dt.datetime.now(dt.UTC) + dt.timedelta(days=3)).replace(
        hour=3, minute=0, second=0, microsecond=0
    )
    node.set_sweep_next(int(sweep.timestamp()))

    for i, recipe in enumerate(RECIPES):
        run = runner_script.Run(
            cfg,
            recipe,
            SWEEP_ID.format(recipe=recipe),
            live=False,
            variant="sweep",
            start=SWEEP_START + dt.timedelta(minutes=i),
        )
        run.execute()
    for back, which in HISTORY_NIGHTS if history else ():
        for recipe in RECIPES:
            green = which == "previous" or recipe == SINGLE_ATTEMPT
            _past_night(node, recipe, back, green or (recipe, back) == FLAKY_NIGHT)
    for recipe, start in PAST_RERUNS:
        run = runner_script.Run(cfg, recipe, "manual", live=False, start=start)
        status = run.execute()
        (root / "tmp" / f"redfix-{recipe}.log").write_bytes(bytes(run.log))
        if history and recipe in ARCHIVED_RERUNS:
            _archive(node, recipe, start, run.now(), status)
    return node


def _past_night(node: DemoNode, recipe: str, back: dt.timedelta, green: bool) -> None:
    """A sweep ``back`` before the last night's, made from that night's run: the same run on
    the current tag (JUnit files and all), or green on the previous one (``green``: the
    previous tag passed, it is the canonical one; results.json only, since the JUnit files
    would tell the current tag's story)."""
    last = node.runs_root / SWEEP_ID.format(recipe=recipe)
    night = SWEEP_START - back
    target = node.runs_root / f"sweep-{night:%Y%m%dT%H%MZ}-{recipe}"
    data = json.loads((last / "results.json").read_text(encoding="utf-8"))
    finished = dt.datetime.strptime(data["finished"], "%Y-%m-%dT%H:%M:%SZ") - back
    data.update(run_id=target.name, finished=f"{finished:%Y-%m-%dT%H:%M:%SZ}")
    if green:
        meta = RECIPES[recipe]
        if (recipe, back) != FLAKY_NIGHT:
            data.update(version=meta["previous"], ref=f"refs/tags/{meta['previous']}")
        for stage in data.get("stages", []):
            stage["status"] = "passed"
            for test in stage.get("tests", []):
                test["status"] = "passed"
        target.mkdir(parents=True)
    else:
        shutil.copytree(last, target)
    _write(target / "results.json", json.dumps(data, indent=1) + "\n")


def _archive(node: DemoNode, recipe: str, start: dt.datetime, end: dt.datetime, status: int):
    """Archive a past isolation run as the detached rerun wrapper does (see RunControl)."""
    manual = node.runs_root / "manual"
    target = node.archive / recipe / f"{start:%Y%m%dT%H%M%SZ}"
    shutil.copytree(manual / "junit", target / "junit")
    shutil.copyfile(manual / "results.json", target / "results.json")
    shutil.copyfile(node.root / "tmp" / f"redfix-{recipe}.log", target / "log")
    canonical = node.warm_root / recipe / "canonical.json"
    if canonical.exists():
        shutil.copyfile(canonical, target / "canonical.json")
    state = {
        "recipe": recipe,
        "tag": RECIPES[recipe]["tag"],
        "started": start.isoformat(timespec="seconds"),
        "start": int(start.timestamp()),
        "end": int(end.timestamp()),
        "exit_status": status,
        "user": "operator",
        "run_id": "manual",
    }
    _write(target / "run.json", json.dumps(state) + "\n")
