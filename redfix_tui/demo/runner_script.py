"""The demo node's fake cc-ci runner (installed as ``etc/cc-ci/runner/run_recipe_ci.py``).

Run as ``RECIPE=<recipe> CCCI_SKIP_FETCH=1 cc-ci-run runner/run_recipe_ci.py`` it replays a cold,
full run of one recipe in about 60 s × speed (``$REDFIX_DEMO_SPEED``, default from
``demo.json``; 0.05 makes a run take ~3 s). Standard library only; its settings are in
``demo.json`` beside it (written by :func:`redfix_tui.demo.tree.build_demo_node`).

What it does, in order:

1. Clears ``<runs_root>/manual/`` and writes ``lint.txt`` there.
2. Streams a log to stdout, flushed line by line: harness lines
   ``2026-06-18T00:05:12Z run_recipe_ci INFO <message>``, abra/docker output (the prepull, the
   ``docker stack deploy``, converge and ``UpdateStatus=completed`` lines), one container log
   line holding an invalid UTF-8 byte and one very long (~8 KB) ``docker service inspect`` line.
   The recipe's stack appears in the fake ``docker stack ls`` while it is deployed.
3. For each stage in order install, upgrade, backup, restore, custom, a banner line which, once
   ANSI SGR sequences are stripped, is exactly ``==== stage: <name> ====`` (it is sent bold:
   ``ESC[1m==== stage: install ====ESC[0m``); then the stage's abra lines, the pytest command,
   and pytest's real console output for that stage (green ``PASSED``, red ``FAILED``, a
   traceback with ``E   `` lines, the short summary ``FAILED tests/<recipe>/test_<stage>.py::<test>
   - <message>``); then ``<stage>__cc-ci__test_<stage>.xml`` appears in ``manual/junit/`` (written
   atomically, except install's, which is written in two halves a moment apart) and a line
   ``... run_recipe_ci INFO stage <name>: passed|failed (<n> passed, <m> failed)``. If install
   fails, later stages print their banner and ``SKIPPED: install failed, stage not run``.
4. Teardown (``docker stack rm``; the stack disappears), ``results.json`` (schema 2), and the
   verdict line ``==== verdict: PASS <recipe> <version> ====`` or
   ``==== verdict: FAIL <recipe> <version> (failed: <stage>[,<stage>]) ====`` (bold green/red).
   Exit status 1 if a stage failed, else 0; missing or unknown ``RECIPE``: 2.

SIGTERM (e.g. to the process group) prints ``terminated`` and exits 143 at once: no teardown,
so the stack is left behind and there is no results.json, as on the real node.
``CCCI_DEMO_UNDER_LOAD=1`` replays the loaded sweep (mumble's handshake then times out).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import signal
import sys
import time
import zlib
from pathlib import Path

STAGES = ("install", "upgrade", "backup", "restore", "custom")
STAGE_SECONDS = {"install": 9.0, "upgrade": 11.0, "backup": 8.0, "restore": 10.0, "custom": 8.0}
"""Seconds each stage takes at speed 1; with ~10 s of deploy and ~4 s of teardown: ~60 s."""
XML_MARKER = "@@JUNITXML@@"
BOLD, RED, GREEN, YELLOW, CYAN, RESET = (
    "\x1b[1m",
    "\x1b[31m",
    "\x1b[32m",
    "\x1b[33m",
    "\x1b[36m",
    "\x1b[0m",
)
_TIMESTAMP_RE = re.compile(r' timestamp="[^"]*"')


def junit_name(stage: str) -> str:
    """Return the JUnit file name of a stage, as cc-ci names it."""
    return f"{stage}__cc-ci__test_{stage}.xml"


def utc_stamp(when: dt.datetime) -> str:
    """Return ``when`` as ``2026-06-18T00:05:12Z``."""
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Run:
    """One replayed run: where it writes, how time passes, what it prints.

    ``live`` runs sleep (scaled by ``speed``), print to stdout and update the stacks file;
    otherwise time is virtual (starting at ``start``), output is collected in :attr:`log` and
    the run finishes at once — the demo tree uses that for past runs.
    """

    def __init__(
        self,
        cfg: dict,
        recipe: str,
        run_id: str,
        *,
        live: bool,
        speed: float = 1.0,
        variant: str = "",
        start: dt.datetime | None = None,
        version: str = "",
    ) -> None:
        self.cfg = cfg
        self.recipe = recipe
        self.meta = cfg["recipes"][recipe]
        self.version = version or self.meta["tag"]
        self.run_id = run_id
        self.live = live
        self.speed = speed
        self.variant = variant
        self.run_dir = Path(cfg["runs_root"]) / run_id
        self.fixtures = Path(cfg["fixtures"])
        self.index = json.loads((self.fixtures / "index.json").read_text(encoding="utf-8"))
        self.stack = self.meta["domain"].replace(".", "_")
        self.log = bytearray()
        self._virtual = start or dt.datetime.now(dt.UTC)

    # -- primitives ------------------------------------------------------------------------
    def now(self) -> dt.datetime:
        """Return the run's current time (real when live)."""
        return dt.datetime.now(dt.UTC) if self.live else self._virtual

    def pause(self, seconds: float) -> None:
        """Let ``seconds`` (at speed 1) pass."""
        if self.live:
            time.sleep(max(0.0, seconds * self.speed))
        else:
            self._virtual += dt.timedelta(seconds=seconds * 20)

    def out(self, data: str | bytes) -> None:
        """Print one line (``data`` without its newline) and flush."""
        raw = data if isinstance(data, bytes) else data.encode("utf-8")
        raw += b"\n"
        if not self.live:
            self.log += raw
            return
        try:
            sys.stdout.buffer.write(raw)
            sys.stdout.buffer.flush()
        except BrokenPipeError:
            pass

    def info(self, message: str, level: str = "INFO") -> None:
        """Print a harness line."""
        self.out(f"{utc_stamp(self.now())} run_recipe_ci {level} {message}")

    def set_stack(self, present: bool) -> None:
        """Add or remove this recipe's stack in the fake ``docker stack ls`` (live runs only)."""
        if not self.live:
            return
        path = Path(self.cfg["state"]) / "stacks"
        names = [n for n in path.read_text(encoding="utf-8").split() if n != self.stack]
        if present:
            names.append(self.stack)
        tmp = path.with_name(f".stacks.{os.getpid()}")
        tmp.write_text("".join(f"{n}\n" for n in names), encoding="utf-8")
        os.replace(tmp, path)

    def stage_key(self, stage: str) -> str:
        """Return the fixture key of ``stage`` for this run's variant."""
        key = f"{stage}.{self.variant}"
        return key if self.variant and key in self.index[self.recipe] else stage

    def write_junit(self, stage: str, *, in_two_halves: bool = False) -> Path:
        """Write the stage's JUnit file into ``<run>/junit/``, stamped with the current time."""
        key = self.stage_key(stage)
        xml = (self.fixtures / self.recipe / f"{key}.xml").read_text(encoding="utf-8")
        stamp = self.now().strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")
        data = _TIMESTAMP_RE.sub(f' timestamp="{stamp}"', xml, count=1).encode("utf-8")
        path = self.run_dir / "junit" / junit_name(stage)
        if in_two_halves and self.live:
            with path.open("wb") as handle:
                handle.write(data[: len(data) // 2])
                handle.flush()
                time.sleep(max(0.25, self.speed))
                handle.write(data[len(data) // 2 :])
        else:
            tmp = path.with_name(f".{path.name}.tmp")
            tmp.write_bytes(data)
            os.replace(tmp, path)
        return path

    # -- the run ---------------------------------------------------------------------------
    def execute(self) -> int:
        """Run the whole script; return the exit status (1 if a stage failed)."""
        shutil.rmtree(self.run_dir, ignore_errors=True)
        (self.run_dir / "junit").mkdir(parents=True)
        lint = lint_text(self.recipe, self.version)
        (self.run_dir / "lint.txt").write_text(lint, encoding="utf-8")
        self.info(
            f"recipe={self.recipe} version={self.version} run_id={self.run_id} "
            "mode=cold/full CCCI_SKIP_FETCH=1"
        )
        self.info(f"lint: {lint_summary(lint)} (see {self.run_dir / 'lint.txt'})")
        self.pause(1)
        self.deploy()
        stages: list[dict] = []
        for stage in STAGES:
            stages.append(
                self.run_stage(stage, gated=bool(stages) and stages[0]["status"] != "passed")
            )
        self.teardown()
        failed = [s["name"] for s in stages if s["status"] in ("failed", "error")]
        results = results_json(
            self.recipe,
            self.version,
            self.run_id,
            utc_stamp(self.now()),
            stages,
            lint,
            clean_teardown=True,
        )
        tmp = self.run_dir / ".results.json.tmp"
        tmp.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, self.run_dir / "results.json")
        self.info(f"results: {self.run_dir / 'results.json'}")
        if failed:
            self.out(
                f"{BOLD}{RED}==== verdict: FAIL {self.recipe} {self.version} "
                f"(failed: {','.join(failed)}) ===={RESET}"
            )
            return 1
        self.out(f"{BOLD}{GREEN}==== verdict: PASS {self.recipe} {self.version} ===={RESET}")
        return 0

    def deploy(self) -> None:
        """Prepull, ``abra app deploy`` (a ``docker stack deploy``) and wait for convergence."""
        domain, services = self.meta["domain"], self.meta["services"]
        self.info(f"abra app new {self.recipe} --chaos -D {domain} (checkout {self.version})")
        self.info("prepull: docker compose config --images")
        if self.recipe == "discourse":
            self.out(
                'service "sidekiq" depends on undefined service "discourse": '
                "invalid compose project"
            )
            self.info("prepull: rc=15, skipping (deploy will pull as usual)", "WARN")
        else:
            for image in services.values():
                self.out(f"{image}: Pulling from {image.split(':')[0]}")
                self.out(f"Status: Image is up to date for {image}")
        self.pause(1.5)
        self.info(f"abra app deploy {domain} --chaos --no-input")
        self.out(
            f"$ docker stack deploy --detach=false --with-registry-auth -c compose.yml {self.stack}"
        )
        self.out(f"Creating network {self.stack}_internal")
        self.set_stack(True)
        for name in services:
            self.out(f"Creating service {self.stack}_{name}")
        self.pause(2)
        total = len(services)
        for done in range(total + 1):
            self.out(f"overall progress: {done} out of {total} tasks")
            self.pause(3.0 / (total + 1))
        self.out(
            b"app.1  | "
            + utc_stamp(self.now()).encode()
            + b" WARN locale: LANG value 'C.UTF-8\xff' has an invalid byte, using C"
        )
        self.out("DEBUG docker service inspect " + long_inspect(self.stack, services, self.version))
        for name in services:
            self.out(f"{self.stack}_{name} UpdateStatus=completed")
        self.out(f"{GREEN}verify: Service {self.stack} converged{RESET}")
        self.info(
            f"deployed {domain} ({self.version}), chaos-version label = {self.meta['commit'][:8]}+U"
        )
        self.pause(1.5)

    def run_stage(self, stage: str, *, gated: bool) -> dict:
        """Run one stage: banner, abra lines, pytest output, JUnit file; return its summary."""
        self.out(f"{BOLD}==== stage: {stage} ===={RESET}")
        seconds = STAGE_SECONDS[stage]
        if gated:
            self.out(f"{YELLOW}SKIPPED: install failed, stage not run{RESET}")
            self.pause(0.5)
            return {"name": stage, "status": "skipped", "tests": []}
        for line in stage_actions(stage, self.meta, self.version):
            self.out(line)
            self.pause(seconds * 0.3 / 3)
        key = self.stage_key(stage)
        junit = self.run_dir / "junit" / junit_name(stage)
        self.out(
            f"$ python -m pytest tests/{self.recipe}/test_{stage}.py -v -rfE --junitxml={junit}"
        )
        console = (self.fixtures / self.recipe / f"{key}.out").read_text(encoding="utf-8")
        lines = console.split("\n")
        result_lines = [ln for ln in lines if ln.startswith(f"tests/{self.recipe}/")]
        step = seconds * 0.6 / max(1, len(result_lines))
        for line in lines:
            if line in result_lines:
                self.pause(step)
            if line == XML_MARKER:
                line = f" generated xml file: {junit} ".center(120, "-")
            self.out(line)
        self.write_junit(stage, in_two_halves=stage == "install")
        entry = self.index[self.recipe][key]
        counts = {s: sum(t["status"] == s for t in entry["tests"]) for s in ("passed", "failed")}
        colour = GREEN if entry["status"] == "passed" else RED
        self.info(
            f"stage {stage}: {colour}{entry['status']}{RESET} "
            f"({counts['passed']} passed, {counts['failed']} failed)"
        )
        self.pause(seconds * 0.1)
        tests = [{"name": t["name"], "status": t["status"], "ms": t["ms"]} for t in entry["tests"]]
        return {"name": stage, "status": entry["status"], "tests": tests}

    def teardown(self) -> None:
        """Undeploy and check that nothing is left behind."""
        self.info(f"teardown: abra app undeploy {self.meta['domain']} --no-input")
        self.out(f"$ docker stack rm {self.stack}")
        for name in self.meta["services"]:
            self.out(f"Removing service {self.stack}_{name}")
        self.out(f"Removing network {self.stack}_internal")
        self.pause(2)
        self.set_stack(False)
        self.info(f"teardown: no stack left for {self.recipe} (clean_teardown=true)")
        self.info("secrets: no secret value found in logs (no_secret_leak=true)")
        self.pause(1)


def stage_actions(stage: str, meta: dict, version: str) -> list[str]:
    """Return the abra/docker lines a stage prints before its tests."""
    domain = meta["domain"]
    snapshot = "b0495d36"
    return {
        "install": [
            f"INFO app {domain} is deployed at {version}",
            f"GET https://{domain}/ -> 200",
            "INFO running install checks",
        ],
        "upgrade": [
            f"$ abra app deploy {domain} {meta['previous']} --force --no-input",
            f"$ abra app upgrade {domain} {version} --no-input",
            f"INFO upgrade {meta['previous']} -> {version}: UpdateStatus=completed",
        ],
        "backup": [
            f"$ abra app backup create {domain}",
            "backupbot: running pre-hooks",
            f"backupbot: Created snapshot {snapshot}",
        ],
        "restore": [
            f"$ abra app restore {domain} {snapshot}",
            f"backupbot: Restoring Snapshot {snapshot} at /",
            "backupbot: done",
        ],
        "custom": [
            f"INFO custom checks for {meta['domain'].split('.')[0]}",
            f"GET https://{domain}/ -> 200",
            "INFO probes ready",
        ],
    }[stage]


def long_inspect(stack: str, services: dict[str, str], version: str) -> str:
    """Return one very long JSON line, as ``docker service inspect`` prints it."""
    labels = {f"coop-cloud.{stack}.label{i:03d}": "x" * 24 for i in range(160)}
    labels["coop-cloud.chaos-version"] = version
    specs = [
        {
            "ID": f"{zlib.crc32(name.encode()):08x}",
            "Spec": {
                "Name": f"{stack}_{name}",
                "Labels": labels,
                "TaskTemplate": {"ContainerSpec": {"Image": image}},
            },
        }
        for name, image in services.items()
    ]
    return json.dumps(specs, separators=(",", ":"))


LINT_RULES = (
    ("R001", "compose config has expected version"),
    ("R002", "service named app exists"),
    ("R003", "traefik routing enabled"),
    ("R004", "all services have images"),
    ("R005", "config version are vendored"),
    ("R006", "only annotated tags used"),
    ("R007", "README.md present"),
    ("R008", ".env.sample provided"),
    ("R009", "one service named 'app'"),
    ("R010", "healthcheck enabled for all services"),
    ("R011", "all images use a tag"),
    ("R012", "no unstable tags"),
    ("R013", "semver-like tags"),
    ("R014", "backupbot labels present"),
)


def lint_text(recipe: str, version: str) -> str:
    """Return ``abra recipe lint`` output; one or two rules unsatisfied, deterministically."""
    seed = zlib.crc32(recipe.encode())
    misses = {LINT_RULES[seed % 14][0], LINT_RULES[(seed // 14) % 14][0]} - {"R001"}
    lines = [
        f"$ abra recipe lint {recipe} (at {version})",
        f"{'REF':<6}{'RULE':<42}{'SEVERITY':<10}{'SATISFIED':<10}{'SKIPPED'}",
    ]
    for ref, rule in LINT_RULES:
        lines.append(f"{ref:<6}{rule:<42}{'warning':<10}{'no' if ref in misses else 'yes':<10}no")
    return "\n".join(lines) + "\n"


def lint_summary(text: str) -> str:
    """Return ``0 errors, N warnings`` for a lint.txt."""
    warnings = sum(1 for line in text.splitlines() if "warning   no" in line)
    return f"0 errors, {warnings} warnings"


def results_json(
    recipe: str,
    version: str,
    run_id: str,
    finished: str,
    stages: list[dict],
    lint: str,
    *,
    clean_teardown: bool,
) -> dict:
    """Return a results.json (schema 2) for a run."""
    rungs: list[str] = []
    for stage in stages:
        if stage["status"] != "passed":
            break
        rungs.append(stage["name"])
    warnings = int(lint_summary(lint).split()[2])
    return {
        "recipe": recipe,
        "version": version,
        "pr": None,
        "ref": f"refs/tags/{version}",
        "run_id": run_id,
        "finished": finished,
        "stages": stages,
        "level": "full",
        "rungs": rungs,
        "lint": {"errors": 0, "warnings": warnings},
        "skips": [
            {"stage": s["name"], "reason": "install failed"}
            for s in stages
            if s["status"] == "skipped"
        ],
        "flags": {"clean_teardown": clean_teardown, "no_secret_leak": True},
    }


def main() -> int:
    """Entry point on the demo node."""
    cfg = json.loads(Path(__file__).with_name("demo.json").read_text(encoding="utf-8"))
    recipe = os.environ.get("RECIPE", "")
    if recipe not in cfg["recipes"]:
        print(f"run_recipe_ci: RECIPE={recipe!r} is not a recipe of this node", file=sys.stderr)
        return 2

    def on_term(signum: int, frame: object) -> None:
        sys.stdout.buffer.write(f"\n{BOLD}{RED}terminated{RESET}\n".encode())
        sys.stdout.buffer.flush()
        os._exit(143)

    signal.signal(signal.SIGTERM, on_term)
    speed = float(os.environ.get("REDFIX_DEMO_SPEED") or cfg.get("speed", 1.0))
    checkout = Path(cfg["state"]) / "checkout" / recipe
    version = checkout.read_text(encoding="utf-8").strip() if checkout.is_file() else ""
    variant = "sweep" if os.environ.get("CCCI_DEMO_UNDER_LOAD") == "1" else ""
    run = Run(
        cfg,
        recipe,
        cfg.get("manual_run_id", "manual"),
        live=True,
        speed=speed,
        variant=variant,
        version=version,
    )
    return run.execute()


if __name__ == "__main__":
    raise SystemExit(main())
