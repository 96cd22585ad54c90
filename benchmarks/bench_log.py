"""Benchmark: the live log pane against a raw chunked asyncssh read (issue 3, item 8).

In one run, over the in-process loopback SSH server of ``redfix_tui.demo.server``:

1. generate N lines (default 1,000,000, ~122 MB, a third with SGR colour codes) in a temp dir;
2. time a raw chunked read of them (asyncssh ``cat``, 64 KiB reads, bytes only counted);
3. time the same bytes streamed into a headless ``LogPane`` (``App.run_test``) until the last
   line has been rendered on screen; report the ratio and peak RSS growth (VmHWM after resetting
   it through ``/proc/self/clear_refs``, minus VmRSS before);
4. flood the pane with a paced remote generator (default 200k lines/s) and measure key press →
   next frame reflecting it (toggling line numbers), reporting p50/p95/max.

Run: ``.venv/bin/python benchmarks/bench_log.py [--lines N] [--flood-rate R] [--presses K]``.
Targets: ratio ≤ 1.5, RSS growth ≤ 48 MB, key → frame p95 ≤ 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import shlex
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import asyncssh
from textual.app import App, ComposeResult

from redfix_tui.config import NodeConfig
from redfix_tui.demo.server import LocalShellServer, new_client_key
from redfix_tui.node import NodeConnection
from redfix_tui.widgets.log_pane import LogPane

FLOOD = r"""
import sys, time
rate, seconds = int(sys.argv[1]), float(sys.argv[2])
out = sys.stdout.buffer
batch = max(1, rate // 100)
start = time.monotonic(); n = 0
while time.monotonic() - start < seconds:
    out.write(b"".join(b"flood %9d \x1b[36mINFO\x1b[0m service gitea_app replica 1/1 converging ...\n" % (n + i) for i in range(batch)))
    out.flush(); n += batch
    delay = start + n / rate - time.monotonic()
    if delay > 0: time.sleep(delay)
"""


def generate(path: Path, lines: int) -> int:
    """Write ``lines`` ~122-byte log lines, every third coloured; return the byte count."""
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


class BenchApp(App):
    """Just a log pane."""

    def compose(self) -> ComposeResult:
        yield LogPane()


async def raw_read(config: NodeConfig, command: str) -> tuple[float, int]:
    """Time a chunked asyncssh read of ``command``'s output; return (seconds, bytes)."""
    async with asyncssh.connect(
        config.host,
        port=config.port,
        username=config.username,
        known_hosts=config.known_hosts,
        client_keys=config.client_keys,
        config=[config.ssh_config],
    ) as conn:
        start = time.perf_counter()
        process = await conn.create_process(command, encoding=None)
        total = 0
        while chunk := await process.stdout.read(65536):
            total += len(chunk)
        await process.wait_closed()
        return time.perf_counter() - start, total


async def main(args: argparse.Namespace) -> None:
    """Run the benchmark and print the figures."""
    with tempfile.TemporaryDirectory(prefix="bench-log-") as tmp:
        tmpdir = Path(tmp)
        log = tmpdir / "big.log"
        t = time.perf_counter()
        size = generate(log, args.lines)
        print(
            f"generated {args.lines:,} lines, {size / 1e6:.1f} MB in {time.perf_counter() - t:.1f}s"
        )

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
        raw_times = []
        for _ in range(2):  # the first one warms the page cache
            seconds, got = await raw_read(config, command)
            assert got == size, (got, size)
            raw_times.append(seconds)
        raw = min(raw_times)
        print(f"raw chunked asyncssh read: {raw:.2f}s ({size / raw / 1e6:.0f} MB/s)")

        node = NodeConnection(config)
        await node.connect()
        app = BenchApp()
        async with app.run_test(size=(160, 50)) as pilot:
            pane = app.query_one(LogPane)
            view = pane.log_view
            view.focus()
            await pilot.pause()
            have_peak = _reset_peak()
            rss_before = _status("VmRSS")
            start = time.perf_counter()
            pane.run_remote(node, command, str(log))
            while view.spool is None or view.spool.complete_lines < args.lines:
                await asyncio.sleep(0.002)
            t_spooled = time.perf_counter() - start
            while view.last_rendered_line < args.lines - 1:
                await asyncio.sleep(0.002)
            t_screen = time.perf_counter() - start
            peak = _status("VmHWM") if have_peak else _status("VmRSS")
            growth = (peak - rss_before) / 2**20
            print(
                f"pane: all bytes spooled {t_spooled:.2f}s, last line on screen {t_screen:.2f}s"
                f" -> ratio {t_screen / raw:.2f}x raw (target <= 1.5)"
            )
            print(
                f"peak RSS growth: {growth:.1f} MB (target <= 48)"
                + ("" if have_peak else " [VmHWM reset unavailable: current RSS]")
            )

            # Flood + key -> frame latency.
            script = tmpdir / "flood.py"
            script.write_text(FLOOD)
            flood_cmd = f"python3 {shlex.quote(str(script))} {args.flood_rate} {args.flood_seconds}"
            latencies: list[float] = []
            pending: dict[str, float | bool] = {}
            original = app._display

            def display(screen, renderable) -> None:
                if pending and view.show_line_numbers == pending["want"]:
                    latencies.append(time.perf_counter() - pending["t0"])  # type: ignore[operator]
                    pending.clear()
                original(screen, renderable)

            app._display = display  # type: ignore[method-assign]
            pane.run_remote(node, flood_cmd, "flood")
            await asyncio.sleep(0.5)
            first_lines, first_t = view.spool.line_count, time.perf_counter()
            for _ in range(args.presses):
                pending.update(want=not view.show_line_numbers, t0=time.perf_counter())
                await pilot.press("number_sign")
                deadline = time.perf_counter() + 2
                while pending and time.perf_counter() < deadline:
                    await asyncio.sleep(0.001)
                pending.clear()
                await asyncio.sleep(0.02)
            arrived = (view.spool.line_count - first_lines) / (time.perf_counter() - first_t)
            app._display = original  # type: ignore[method-assign]
            if latencies:
                ms = sorted(x * 1000 for x in latencies)
                p95 = ms[min(len(ms) - 1, int(0.95 * len(ms)))]
                print(
                    f"key -> frame during a flood of {arrived:,.0f} lines/s ({len(ms)} presses):"
                    f" p50 {statistics.median(ms):.1f} ms, p95 {p95:.1f} ms, max {ms[-1]:.1f} ms"
                    " (target p95 <= 50)"
                )
            else:
                print("key -> frame: no frames observed")
        await node.close()
        await server.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--flood-rate", type=int, default=200_000, help="lines per second")
    parser.add_argument("--flood-seconds", type=float, default=6.0)
    parser.add_argument("--presses", type=int, default=60)
    asyncio.run(main(parser.parse_args()))
