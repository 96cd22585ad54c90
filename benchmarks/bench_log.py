"""Benchmark: the live log pane against a raw chunked asyncssh read.

Everything goes over the in-process loopback SSH server of ``redfix_tui.demo.server`` (the same
server, host key pinned, for the raw read and the pane):

1. generate N lines (default 1,000,000, ~118 MB, a third with SGR colour codes) in a temp dir;
2. warm up (one raw read: page cache; one short pane run: code paths);
3. ``--runs`` times, interleaved: a raw chunked read (asyncssh ``cat``, ``--raw-chunk`` reads,
   64 KiB as in the issue, bytes only counted, no app running), then the same bytes streamed
   into a fresh headless ``LogPane`` (``App.run_test``, its start-up garbage collected before
   the clock starts) until the frame showing the last line is produced. Reported: medians of
   both and the median of the per-run ratios (also in CPU time of this process, which holds
   client and server: a check that is less sensitive to other load on the machine); peak RSS
   growth (VmHWM after resetting it through ``/proc/self/clear_refs``, minus VmRSS before the
   run), the worst run;
4. a flood: a remote pacer writes pre-built lines at ``--flood-rate`` lines/s (cheap: it
   writes slices of one buffer, so the generator is never the bottleneck), for longer than the
   measurement; meanwhile ``--presses`` key presses (``#``, toggling line numbers) at irregular
   intervals; key press → first frame reflecting it, p50/p95/max, and the lines/s that really
   arrived in the pane during the presses.

Run: ``.venv/bin/python benchmarks/bench_log.py [--lines N] [--runs R] [--flood-rate R]
[--no-gc-freeze]``; ``--e2e-openssh`` instead launches ``redfix-tui log HOST:FILE`` in a real
tmux against the test suite's OpenSSH sshd, beside ``ssh NODE cat FILE`` (see
:func:`e2e_openssh`); ``--e2e-local`` launches ``redfix-tui --local log FILE`` beside ``cat FILE``
plus a minimal Textual app (:func:`e2e_local`). Like the console (``RedfixApp.on_ready``), the
bench app freezes the heap once it is up, so objects from start-up are never traversed by the
garbage collector; ``--no-gc-freeze`` measures without that.
Targets: ratio ≤ 1.5, RSS growth ≤ 48 MB, key → frame p95 ≤ 50 ms with ≥ 100k lines/s
arriving. The machine is shared: run it several times and compare medians (load is printed).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import getpass
import os
import random
import shlex
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import asyncssh
from textual import events
from textual.app import App, ComposeResult

from redfix_tui.config import NodeConfig
from redfix_tui.demo.server import LocalShellServer, new_client_key
from redfix_tui.logs.tail import ENDED
from redfix_tui.node import NodeConnection
from redfix_tui.widgets.log_pane import LogPane

PACER = r"""
import os, sys, time
rate, seconds = int(sys.argv[1]), float(sys.argv[2])
lines = []
for i in range(100_000):
    info = b"\x1b[36mINFO\x1b[0m" if i % 3 == 0 else b"INFO"
    lines.append(b"flood %9d %s service gitea_app replica 1/1 converging ...\n" % (i, info))
step = max(1, rate // 200)  # 200 writes a second
blocks = [b"".join(lines[i:i + step]) for i in range(0, len(lines) - step + 1, step)]
start = time.monotonic(); n = 0; k = 0
while time.monotonic() - start < seconds:
    os.write(1, blocks[k % len(blocks)]); k += 1; n += step
    delay = start + n / rate - time.monotonic()
    if delay > 0:
        time.sleep(delay)
"""


def generate(path: Path, lines: int) -> int:
    """Write ``lines`` ~118-byte log lines, every third coloured; return the byte count."""
    size = 0
    with path.open("wb") as out:
        for start in range(0, lines, 10000):
            block = []
            for i in range(start, min(lines, start + 10000)):
                if i % 3 == 0:
                    block.append(
                        b"2026-06-17T18:05:01.%06dZ \x1b[32mINFO\x1b[0m upgrade step %8d: "
                        b"waiting for gitea_app to converge (\x1b[33m3/30\x1b[0m)\n"
                        % (i % 10**6, i)
                    )
                else:
                    block.append(
                        b"2026-06-17T18:05:01.%06dZ INFO upgrade step %8d: waiting for service "
                        b"gitea_app to converge, attempt 3 of 30 ....\n" % (i % 10**6, i)
                    )
            data = b"".join(block)
            out.write(data)
            size += len(data)
    return size


def _status(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    return 0


def _reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _load() -> str:
    return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


class BenchApp(App):
    """Just a log pane; calls ``on_frame`` after every frame it produces."""

    gc_freeze = False
    """Freeze the heap once the app is up (``--gc-freeze``: what the console app could do)."""

    def __init__(self) -> None:
        super().__init__()
        self.on_frame = lambda: None

    def on_ready(self) -> None:
        if self.gc_freeze:
            gc.collect()
            gc.freeze()

    def on_unmount(self) -> None:
        if self.gc_freeze:
            gc.unfreeze()

    def compose(self) -> ComposeResult:
        yield LogPane()

    def _display(self, screen, renderable) -> None:  # type: ignore[override]
        super()._display(screen, renderable)
        self.on_frame()


async def raw_read(
    config: NodeConfig, command: str, chunk: int = 65536
) -> tuple[float, int, float]:
    """Time a chunked asyncssh read of ``command``'s output; return (seconds, bytes, CPU s)."""
    async with asyncssh.connect(
        config.host,
        port=config.port,
        username=config.username,
        known_hosts=config.known_hosts,
        client_keys=config.client_keys,
        config=[config.ssh_config],
    ) as conn:
        start, cpu = time.perf_counter(), time.process_time()
        process = await conn.create_process(command, encoding=None)
        total = 0
        while data := await process.stdout.read(chunk):
            total += len(data)
        await process.wait_closed()
        return time.perf_counter() - start, total, time.process_time() - cpu


async def pane_run(node: NodeConnection, command: str, lines: int) -> dict[str, float]:
    """Stream ``command`` into a fresh headless pane; time to the frame with the last line."""
    app = BenchApp()
    async with app.run_test(size=(160, 50)) as pilot:
        pane = app.query_one(LogPane)
        view = pane.log_view
        view.focus()
        await pilot.pause()
        gc.collect()  # settle the app's start-up garbage: it is not the stream's cost
        done = asyncio.Event()
        marks: dict[str, float] = {}

        def on_frame() -> None:
            if view.last_rendered_line >= lines - 1 and not done.is_set():
                marks["screen"] = time.perf_counter()
                marks["cpu"] = time.process_time()
                done.set()

        set_state = pane._set_state

        def on_state(state) -> None:
            if state.status == ENDED:
                marks.setdefault("ended", time.perf_counter())
            set_state(state)

        pane._set_state = on_state  # type: ignore[method-assign]
        app.on_frame = on_frame
        have_peak = _reset_peak()
        rss_before = _status("VmRSS")
        start, cpu = time.perf_counter(), time.process_time()
        pane.run_remote(node, command, "bench")
        await asyncio.wait_for(done.wait(), 120)
        peak = _status("VmHWM") if have_peak else _status("VmRSS")
        assert view.spool is not None and view.spool.complete_lines >= lines
        await asyncio.sleep(0.05)
        return {
            "screen": marks["screen"] - start,
            "cpu": marks["cpu"] - cpu,
            "ended": marks.get("ended", float("nan")) - start,
            "rss": (peak - rss_before) / 2**20,
        }


async def flood(node: NodeConnection, tmpdir: Path, args: argparse.Namespace) -> None:
    """Key press → frame latency while a paced flood arrives.

    Keys are sent from a separate thread through the driver, as a real terminal's input thread
    does, at irregular intervals; the latency ends at the first frame produced with the view in
    the toggled state.
    """
    script = tmpdir / "pacer.py"
    script.write_text(PACER)
    seconds = 30 + args.presses
    command = f"exec python3 {shlex.quote(str(script))} {args.flood_rate} {seconds}"
    app = BenchApp()
    async with app.run_test(size=(160, 50)) as pilot:
        pane = app.query_one(LogPane)
        view = pane.log_view
        view.focus()
        await pilot.pause()
        gc.collect()  # settle the app's start-up garbage: it is not the flood's cost
        latencies: list[float] = []
        pending: dict[str, float | bool] = {}
        seen = threading.Event()

        def on_frame() -> None:
            if pending and view.show_line_numbers == pending["want"]:
                latencies.append(time.perf_counter() - pending["t0"])  # type: ignore[operator]
                pending.clear()
                seen.set()

        def press_keys() -> None:
            rng = random.Random(3)
            driver = app._driver
            assert driver is not None
            for _ in range(args.presses):
                time.sleep(rng.uniform(0.05, 0.15))
                seen.clear()
                key = events.Key("number_sign", "#")
                key.set_sender(app)
                pending.update(want=not view.show_line_numbers, t0=time.perf_counter())
                driver.send_message(key)
                if not seen.wait(2.0):
                    pending.clear()

        app.on_frame = on_frame
        pane.run_remote(node, command, "flood")
        await asyncio.sleep(1.0)
        spool = view.spool
        assert spool is not None
        first_lines, first_t = spool.line_count, time.perf_counter()
        await asyncio.to_thread(press_keys)
        arrived = (spool.line_count - first_lines) / (time.perf_counter() - first_t)
        still = pane.state_text
        app.on_frame = lambda: None
        pane.workers.cancel_group(pane, "log-stream")
        await asyncio.sleep(0.3)  # let the server reap the pacer
    if not latencies:
        print("key -> frame: no frames observed")
        return
    ms = sorted(x * 1000 for x in latencies)
    p95 = ms[min(len(ms) - 1, int(0.95 * len(ms)))]
    print(
        f"key -> frame with {arrived:,.0f} lines/s arriving (pacer at {args.flood_rate:,}/s,"
        f" stream {still}), {len(ms)}/{args.presses} presses: p50 {statistics.median(ms):.1f} ms,"
        f" p95 {p95:.1f} ms, max {ms[-1]:.1f} ms (target p95 <= 50 with >= 100k lines/s)"
    )


async def main(args: argparse.Namespace) -> None:
    """Run the benchmark and print the figures."""
    BenchApp.gc_freeze = args.gc_freeze
    frozen = " [gc.freeze() after start-up]" if args.gc_freeze else ""
    print(f"start: {_load()} ({os.cpu_count()} CPUs){frozen}")
    with tempfile.TemporaryDirectory(prefix="bench-log-") as tmp:
        tmpdir = Path(tmp)
        log = tmpdir / "big.log"
        t = time.perf_counter()
        size = generate(log, args.lines)
        print(
            f"generated {args.lines:,} lines, {size / 1e6:.1f} MB in {time.perf_counter() - t:.1f}s"
        )
        warm = tmpdir / "warm.log"
        generate(warm, min(args.lines, 100_000))

        key, public = new_client_key()
        key_path = tmpdir / "client_key"
        key.write_private_key(str(key_path))
        key_path.chmod(0o600)
        server = LocalShellServer(client_public_key=public, cwd=tmpdir)
        await server.start()
        known = tmpdir / "known_hosts"
        known.write_text(server.known_hosts_line())
        (tmpdir / "ssh_config").write_text("")
        config = NodeConfig(
            host="127.0.0.1",
            port=server.port,
            username=getpass.getuser(),
            known_hosts=str(known),
            client_keys=[str(key_path)],
            ssh_config=str(tmpdir / "ssh_config"),
        )
        command = f"cat {shlex.quote(str(log))}"
        node = NodeConnection(config)
        await node.connect()

        seconds, got, _cpu = await raw_read(config, command)
        assert got == size, (got, size)
        await pane_run(node, f"cat {shlex.quote(str(warm))}", min(args.lines, 100_000))

        raws, panes, ratios, cpu_ratios, rss, ended = [], [], [], [], [], []
        for run in range(args.runs):
            seconds, got, raw_cpu = await raw_read(config, command, args.raw_chunk)
            assert got == size, (got, size)
            result = await pane_run(node, command, args.lines)
            raws.append(seconds)
            panes.append(result["screen"])
            ended.append(result["ended"])
            ratios.append(result["screen"] / seconds)
            cpu_ratios.append(result["cpu"] / raw_cpu)
            rss.append(result["rss"])
            print(
                f"  run {run + 1}: raw {seconds:.2f}s (CPU {raw_cpu:.2f}s), pane: stream ended"
                f" {result['ended']:.2f}s, last line on screen {result['screen']:.2f}s"
                f" (CPU {result['cpu']:.2f}s) -> {ratios[-1]:.2f}x, CPU {cpu_ratios[-1]:.2f}x,"
                f" RSS +{result['rss']:.1f} MB"
            )
        print(
            f"raw chunked asyncssh read ({args.raw_chunk // 1024} KiB reads):"
            f" median {statistics.median(raws):.2f}s"
            f" ({size / statistics.median(raws) / 1e6:.0f} MB/s)"
        )
        print(
            f"pane: last line on screen median {statistics.median(panes):.2f}s"
            f" (stream ended {statistics.median(ended):.2f}s)"
            f" -> ratio median {statistics.median(ratios):.2f}x raw"
            f" [runs: {', '.join(f'{r:.2f}' for r in ratios)}] (target <= 1.5)"
        )
        print(
            f"  same in CPU time of this process (client + in-process server; less sensitive to"
            f" other load): median {statistics.median(cpu_ratios):.2f}x"
        )
        print(f"peak RSS growth: worst {max(rss):.1f} MB (target <= 48)")

        await flood(node, tmpdir, args)
        await node.close()
        await server.close()
        gc.collect()  # finish the server's subprocess transports while the loop still runs
        await asyncio.sleep(0.1)
    print(f"end: {_load()}")


def e2e_openssh(args: argparse.Namespace) -> None:
    """End to end over OpenSSH: ``redfix-tui log HOST:FILE`` launched in a real tmux, from
    launch to the first and to the last log line on screen, each beside ``ssh NODE cat FILE >
    /dev/null`` timed in the same run; interleaved, medians of ``--runs``. Two configs: one
    pointing at the node's real paths, and the default one (the harness path absent there).
    Also the console's peak RSS (VmHWM of its process, read once the last line is shown)."""
    import subprocess

    import tomli_w

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_startup import known_keys, openssh_node

    from tests.tmux import Tmux

    print(f"start: {_load()} ({os.cpu_count()} CPUs)")
    with tempfile.TemporaryDirectory(prefix="bench-log-e2e-") as tmp:
        tmpdir = Path(tmp)
        log = tmpdir / "redfix-plausible.log"
        size = generate(log, args.lines)
        last = f"step {args.lines - 1:8d}"
        print(f"generated {args.lines:,} lines, {size / 1e6:.1f} MB")
        tree = args.tree.resolve() if args.tree else None
        with openssh_node(tmpdir / "node", known=known_keys(tree)) as node:
            cfg = node.node_config
            default = tmpdir / "default.toml"
            default.write_text(
                tomli_w.dumps(
                    {
                        "node": {
                            k: v
                            for k, v in vars(cfg).items()
                            if k in ("host", "port", "username", "known_hosts", "client_keys")
                            or k == "ssh_config"
                        },
                        "journal": {"path": str(tmpdir / "JOURNAL-redfix.md")},
                        "board": {"tracker": str(tmpdir / "tracker.toml")},
                    }
                )
            )
            ssh = [
                "ssh",
                "-F",
                str(cfg.ssh_config),
                "-p",
                str(cfg.port),
                "-i",
                str(cfg.client_keys[0]),
                "-o",
                f"UserKnownHostsFile={cfg.known_hosts}",
                "-o",
                "StrictHostKeyChecking=yes",
                "-o",
                "BatchMode=yes",
                f"{cfg.username}@{cfg.host}",
                f"cat {shlex.quote(str(log))}",
            ]

            def ssh_cat() -> float:
                start = time.monotonic()
                subprocess.run(ssh, stdout=subprocess.DEVNULL, check=True)
                return time.monotonic() - start

            def peak_rss(tmux: Tmux) -> float:
                """The console's peak resident memory so far (VmHWM, MB): the pane's process
                is the console's Python (tmux runs the command directly)."""
                status = Path(f"/proc/{tmux.pane_pid()}/status").read_text()
                for line in status.splitlines():
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1]) / 1024
                return float("nan")

            def console(config: Path, where: Path | None) -> tuple[float, float, float]:
                command = [
                    sys.executable,
                    "-m",
                    "redfix_tui",
                    "--config",
                    str(config),
                    "log",
                    f"{cfg.host}:{log}",
                ]
                start = time.monotonic()
                tmux = Tmux(command, width=200, height=50, cwd=where)
                try:
                    tmux.wait_for(lambda s: "upgrade step" in s, timeout=60, interval=0.005)
                    first = time.monotonic() - start
                    tmux.wait_for(lambda s: last in s, timeout=120, interval=0.02)
                    done = time.monotonic() - start
                    rss = peak_rss(tmux)
                    tmux.send("q")
                finally:
                    time.sleep(0.2)
                    tmux.kill()
                return first, done, rss

            ssh_cat()  # page cache, sshd warm
            rows: dict[str, list[float]] = {}
            for _ in range(args.runs):
                for name, config in (("real", node.direct), ("default", default)):
                    rows.setdefault("cat " + name, []).append(ssh_cat())
                    if tree is not None:
                        first, done, rss = console(config, tree)
                        rows.setdefault("tree first " + name, []).append(first)
                        rows.setdefault("tree last " + name, []).append(done)
                        rows.setdefault("tree rss " + name, []).append(rss)
                    first, done, rss = console(config, None)
                    rows.setdefault("first " + name, []).append(first)
                    rows.setdefault("last " + name, []).append(done)
                    rows.setdefault("rss " + name, []).append(rss)
    med = {k: statistics.median(v) for k, v in rows.items()}
    print(f"runs: {args.runs} (medians, interleaved, real tmux 200x50), end: {_load()}")
    for name in ("real", "default"):
        cat = med["cat " + name]
        print(f"config with the node's {name} paths:" if name == "real" else "default config:")
        print(f"  {'ssh NODE cat FILE > /dev/null:':34} {cat * 1000:7.0f} ms")
        for label, key in (("", ""), (f" [{args.tree}]", "tree ")):
            if key + "first " + name not in med:
                continue
            first, done = med[key + "first " + name], med[key + "last " + name]
            print(f"  launch -> first log line{label}: {first * 1000:7.0f} ms  (target <= 1000 ms)")
            print(
                f"  launch -> last log line{label}:  {done * 1000:7.0f} ms  "
                f"({done / cat:.1f}x ssh cat; target <= 3x)"
            )
            rss = max(rows[key + "rss " + name])
            print(f"  peak RSS (VmHWM){label}:        {rss:7.0f} MB  (worst run; target <= 120 MB)")


def e2e_local(args: argparse.Namespace) -> None:
    """End to end on the node itself: ``redfix-tui --local log FILE`` launched in a real tmux,
    from launch to the last log line on screen, beside ``cat FILE > /dev/null`` plus a minimal
    Textual app's launch to its first frame, both timed in the same run; interleaved, medians
    of ``--runs``, and the console's peak RSS."""
    import subprocess

    import tomli_w

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_startup import MINIMAL

    from tests.tmux import Tmux

    print(f"start: {_load()} ({os.cpu_count()} CPUs)")
    with tempfile.TemporaryDirectory(prefix="bench-log-local-") as tmp:
        tmpdir = Path(tmp)
        log = tmpdir / "redfix-plausible.log"
        size = generate(log, args.lines)
        last = f"step {args.lines - 1:8d}"
        print(f"generated {args.lines:,} lines, {size / 1e6:.1f} MB")
        config = tmpdir / "local.toml"
        config.write_text(
            tomli_w.dumps(
                {
                    "node": {"host": "local"},
                    "journal": {"path": str(tmpdir / "JOURNAL-redfix.md")},
                    "board": {"tracker": str(tmpdir / "tracker.toml")},
                }
            )
        )
        minimal = tmpdir / "minimal.py"
        minimal.write_text(MINIMAL)

        def launch(command: list[str], done: str) -> tuple[float, float]:
            start = time.monotonic()
            tmux = Tmux(command, width=200, height=50)
            try:
                tmux.wait_for(lambda s: done in s, timeout=120, interval=0.01)
                took = time.monotonic() - start
                status = Path(f"/proc/{tmux.pane_pid()}/status").read_text()
                rss = next(
                    int(line.split()[1]) / 1024
                    for line in status.splitlines()
                    if line.startswith("VmHWM:")
                )
                tmux.send("q")
            finally:
                time.sleep(0.2)
                tmux.kill()
            return took, rss

        def cat() -> float:
            start = time.monotonic()
            subprocess.run(["cat", str(log)], stdout=subprocess.DEVNULL, check=True)
            return time.monotonic() - start

        command = [sys.executable, "-m", "redfix_tui", "--local", "--config", str(config)]
        cat()  # page cache
        rows: dict[str, list[float]] = {}
        for _ in range(args.runs):
            rows.setdefault("cat", []).append(cat())
            rows.setdefault("minimal", []).append(
                launch([sys.executable, str(minimal)], "minimal-ready")[0]
            )
            took, rss = launch([*command, "log", str(log)], last)
            rows.setdefault("console", []).append(took)
            rows.setdefault("rss", []).append(rss)
    med = {k: statistics.median(v) for k, v in rows.items()}
    base = med["cat"] + med["minimal"]
    print(f"runs: {args.runs} (medians, interleaved, real tmux 200x50), end: {_load()}")
    print(f"  cat FILE > /dev/null:              {med['cat'] * 1000:7.0f} ms")
    print(f"  minimal Textual app, first frame:  {med['minimal'] * 1000:7.0f} ms")
    print(
        f"  --local launch -> last log line:   {med['console'] * 1000:7.0f} ms  "
        f"({med['console'] / base:.1f}x cat + minimal app; target <= 2x)"
    )
    print(f"  peak RSS (VmHWM):                  {max(rows['rss']):7.0f} MB  (worst run)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3, help="interleaved raw/pane pairs")
    parser.add_argument("--flood-rate", type=int, default=200_000, help="lines per second")
    parser.add_argument("--presses", type=int, default=60)
    parser.add_argument("--raw-chunk", type=int, default=65536, help="raw read size (bytes)")
    parser.add_argument(
        "--no-gc-freeze",
        dest="gc_freeze",
        action="store_false",
        help="do not call gc.freeze() once each app is up (the console app does)",
    )
    parser.add_argument(
        "--e2e-openssh",
        action="store_true",
        help="end to end over OpenSSH: the console launched in tmux, beside ssh cat",
    )
    parser.add_argument(
        "--e2e-local",
        action="store_true",
        help="end to end with --local: the console launched in tmux, beside cat",
    )
    parser.add_argument(
        "--tree", type=Path, help="with --e2e-openssh: also run the console from this tree"
    )
    parsed = parser.parse_args()
    if parsed.e2e_openssh:
        e2e_openssh(parsed)
    elif parsed.e2e_local:
        e2e_local(parsed)
    else:
        asyncio.run(main(parsed))
