"""The ``redfix-tui`` command: the console, the demo, and the script-friendly subcommands.

User errors print one line (``redfix-tui: …``) and exit non-zero; there is no traceback for them.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from . import __version__
from .config import Config, ConfigError, find_config, write_starter

if TYPE_CHECKING:
    from .app import RedfixApp
    from .session import Session

SUBCOMMANDS = ("init", "junit", "journal", "log", "runs", "rerun")
GLOBAL_AFTER = ("--config", "--journal", "--phase")
"""Global options also accepted after the ``journal`` and ``log`` subcommands."""


def build_parser() -> argparse.ArgumentParser:
    """The top-level argument parser (subcommands take the rest of the line)."""
    parser = argparse.ArgumentParser(
        prog="redfix-tui",
        description="A terminal investigation console for the operator of a recipe CI node.",
        epilog=(
            "subcommands: init [PATH] (write a starter config) · junit PATH... [--json] · "
            "journal add|list|unflatten · log [HOST:]PATH · runs RECIPE [--json] · "
            "rerun RECIPE... [--tag T] [--wait] | --cancel RECIPE; --config, --journal and "
            "--phase may also follow journal and log"
        ),
    )
    parser.add_argument("--version", action="version", version=f"redfix-tui {__version__}")
    parser.add_argument("--config", metavar="PATH", help="config file (TOML)")
    parser.add_argument("--host", metavar="HOST", help="override the node's host")
    parser.add_argument(
        "--local",
        action="store_true",
        help='the node is this machine: run its commands locally, without SSH (host = "local")',
    )
    parser.add_argument(
        "--node", metavar="NAME", help="start on the configured node NAME ([nodes.NAME])"
    )
    parser.add_argument("--journal", metavar="PATH", help="the phase journal to write")
    parser.add_argument("--phase", metavar="NAME", help="the phase name for a new journal")
    parser.add_argument(
        "--demo", action="store_true", help="serve a simulated cc-ci in-process and open it"
    )
    parser.add_argument(
        "--demo-dir",
        metavar="DIR",
        help="keep the demo node in DIR (reopening with the same DIR re-attaches to its reruns)",
    )
    parser.add_argument("command", nargs="?", choices=SUBCOMMANDS, help=argparse.SUPPRESS)
    parser.add_argument("args", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    return parser


def hoist_global_options(args: argparse.Namespace) -> None:
    """Take ``--config``/``--journal``/``--phase`` from after the subcommand into ``args``.

    ``redfix-tui journal list --journal J`` then means ``redfix-tui --journal J journal list``;
    given both before and after, the later one wins. ``--`` ends the options as usual.
    """
    parser = argparse.ArgumentParser(prog="redfix-tui", add_help=False, allow_abbrev=False)
    for option in GLOBAL_AFTER:
        parser.add_argument(option, metavar="VALUE")
    rest = list(args.args)
    end = rest.index("--") if "--" in rest else len(rest)
    found, remaining = parser.parse_known_args(rest[:end])
    for name, value in vars(found).items():
        if value is not None:
            setattr(args, name, value)
    args.args = remaining + rest[end:]


class UserError(Exception):
    """A mistake on the command line or in the config; printed as one line."""


def journal_location(args: argparse.Namespace, config: Config, demo_dir: Path | None):
    """The journal path and phase: ``--journal``/``--phase``, else the config (demo: its dir)."""
    phase = args.phase or config.journal.phase
    if args.journal:
        return Path(args.journal).expanduser(), phase
    if demo_dir is not None:
        return demo_dir / f"JOURNAL-{phase}.md", phase
    return Path(config.journal.path).expanduser(), phase


def _import_ui() -> Callable[..., RedfixApp]:
    """Import the console's UI (Textual, the app and its main screen); return the app factory."""
    from .app import create_app
    from .screens import main  # noqa: F401  (the default screen, imported here, off the loop)

    return create_app


async def _console(session: Session) -> None:
    """Run the console: start connecting and the board's first read at once, import the UI in
    a thread meanwhile (the handshake and the board's remote command overlap Textual's
    imports), then run the app on this same loop."""
    session.start_early()
    create_app = await asyncio.get_running_loop().run_in_executor(None, _import_ui)
    await create_app(session).run_async()


def _run_console(args: argparse.Namespace, config: Config, log_target: str | None) -> int:
    from .session import Session

    if args.local and (args.demo or args.demo_dir):
        raise UserError("--local and --demo cannot be combined (the demo serves its node over SSH)")
    if args.local and args.host:
        raise UserError('--local and --host cannot be combined (--local means host "local")')
    demo_dir: Path | None = None
    if args.demo or args.demo_dir:
        demo_dir = Path(args.demo_dir or tempfile.mkdtemp(prefix="redfix-demo-")).resolve()
    journal_path, phase = journal_location(args, config, demo_dir)
    host = "local" if args.local else args.host
    if log_target and ":" in log_target.split("/", 1)[0]:
        host, log_target = log_target.split(":", 1)
    if args.node:
        config.node_config(args.node)  # an unknown name is a one-line error
    session = Session(
        config, journal_path, phase, host_override=host, demo_dir=demo_dir, node_name=args.node
    )
    session.open_log = log_target
    if session.early and not session.local:
        import asyncssh  # noqa: F401  (first: the handshake can start as soon as the loop runs)
    asyncio.run(_console(session))
    if demo_dir is not None and not args.demo_dir:
        print(f"redfix-tui: demo node files left in {demo_dir}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``redfix-tui`` console script."""
    args = build_parser().parse_args(argv)
    if args.command in ("journal", "log", "runs", "rerun"):
        hoist_global_options(args)
    try:
        if args.command == "junit":
            from .junit.cli import run as junit_run

            return junit_run(args.args)
        if args.command == "init":
            if len(args.args) > 1:
                raise UserError("init takes at most one PATH")
            target = Path(args.args[0] if args.args else "redfix.toml")
            write_starter(target)
            print(f"wrote {target}")
            return 0
        config = find_config(args.config)
        if args.command == "journal":
            from .journal.cli import run as journal_run

            path, phase = journal_location(args, config, None)
            return journal_run(args.args, journal_path=path, phase=phase)
        if args.command in ("runs", "rerun"):
            from .runs import cli as runs_cli

            entry = runs_cli.runs_main if args.command == "runs" else runs_cli.rerun_main
            return entry(args.args, config, host=args.host, local=args.local, node_name=args.node)
        log_target = None
        if args.command == "log":
            if len(args.args) != 1:
                raise UserError("log takes one [HOST:]PATH")
            log_target = args.args[0]
        return _run_console(args, config, log_target)
    except (ConfigError, UserError) as exc:
        print(f"redfix-tui: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
