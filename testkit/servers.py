"""The GraphQL server as a subprocess for benchmarks and tests, an ASGI app under uvicorn in a thread, and
process memory from /proc."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn


def free_port() -> int:
    """A loopback TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass(frozen=True)
class Server:
    base_url: str
    pid: int
    log_path: Path


@contextlib.contextmanager
def serve(
    env: Mapping[str, str],
    log_path: Path,
    start_timeout: float = 180.0,
    cwd: Path | None = None,
    command: Sequence[str] | None = None,
) -> Iterator[Server]:
    """Run `python -m graphql_schema` (or `command`, to which --host and --port are appended) on a free
    loopback port until the block ends; its output goes to log_path. `python -m` puts its working directory
    first on sys.path, so `cwd` (default: this process's) decides which checkout's code the server runs,
    whatever PYTHONPATH says after it."""
    port = free_port()
    argv = list(command) if command is not None else [sys.executable, "-m", "graphql_schema"]
    with open(log_path, "wb") as output:
        process = subprocess.Popen(
            [*argv, "--host", "127.0.0.1", "--port", str(port)],
            env=dict(env),
            cwd=cwd,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            base_url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + start_timeout
            while True:
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(f"{base_url}/healthz", timeout=2).status_code == 200:
                        break
                if process.poll() is not None:
                    raise RuntimeError(f"the server exited during start-up; see {log_path}")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the server was not healthy after {start_timeout:.0f} s; see {log_path}")
                time.sleep(0.25)
            yield Server(base_url, process.pid, log_path)
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@contextlib.contextmanager
def serve_app(app: Any, port: int | None = None, start_timeout: float = 30.0) -> Iterator[str]:
    """Serve an ASGI app with uvicorn (its real HTTP and WebSocket stack) in a thread of this process, on a
    loopback port (a free one unless given), until the block ends; yields its origin, http://127.0.0.1:<port>."""
    port = port or free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="auto"))
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + start_timeout
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError(f"uvicorn did not start on port {port}")
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def memory_mb(pid: int) -> dict[str, float]:
    """A process's resident memory now (VmRSS) and its peak so far (VmHWM), from /proc."""
    figures = {}
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                figures[name] = round(int(value.split()[0]) / 1024, 1)
    return {"rss_mb": figures.get("VmRSS", float("nan")), "peak_since_start_mb": figures.get("VmHWM", float("nan"))}


# -- GraphQL calls --------------------------------------------------------------------------------------


def rss_mb(pid: int) -> float | None:
    """A process's resident memory now, or None when it is gone."""
    try:
        return memory_mb(pid)["rss_mb"]
    except OSError:
        return None
