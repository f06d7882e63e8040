"""GraphiQL in headless Chromium: the page loads (its scripts served by this server), a query with the
Authorization header runs, and the answer shows on screen.

Chromium is driven over the DevTools protocol. Skipped only where no Chromium is installed and CI is not
set; under CI=true a missing browser fails the test.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import os
import shutil
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from websockets.sync.client import ClientConnection, connect

from bench.server import free_port
from graphql_schema.app import create_app
from memos_graph.services.runtime import Runtime
from tests.graphql.conftest import Gql

pytestmark = pytest.mark.neo4j

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
    "--remote-debugging-port=0",
    "--window-size=1400,900",
]


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    if os.environ.get("CI") == "true":
        pytest.fail("Chromium is not installed (scripts/test.sh installs it with apt-get under CI)")
    pytest.skip("Chromium is not installed")


@pytest.fixture(scope="module")
def server(keyed_runtime: Runtime) -> Iterator[str]:
    """The app served by uvicorn on a loopback port."""
    app = create_app(runtime=keyed_runtime)
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    instance = uvicorn.Server(config)
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not instance.started:
        if time.monotonic() > deadline:
            pytest.fail("uvicorn did not start")
        time.sleep(0.1)
    yield f"http://127.0.0.1:{port}"
    instance.should_exit = True
    thread.join(timeout=10)


class Page:
    """A DevTools connection to one page."""

    def __init__(self, websocket: ClientConnection) -> None:
        self._ws = websocket
        self._ids = itertools.count(1)

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        message_id = next(self._ids)
        self._ws.send(json.dumps({"id": message_id, "method": method, "params": params}))
        while True:
            reply = json.loads(self._ws.recv(timeout=30))
            if reply.get("id") == message_id:
                if "error" in reply:
                    raise RuntimeError(reply["error"])
                result: dict[str, Any] = reply.get("result", {})
                return result

    def evaluate(self, expression: str) -> Any:
        return self.call("Runtime.evaluate", expression=expression, returnByValue=True)["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 45.0) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(0.25)
        raise AssertionError(f"timed out waiting for {expression}")



@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Callable[[str], Page]]:
    """Start headless Chromium; yields a function that opens a URL and returns its page."""
    binary = chromium()
    profile = tmp_path / "profile"
    process = subprocess.Popen(
        [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    stack = contextlib.ExitStack()
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not port_file.exists() or not port_file.read_text().strip():
            if time.monotonic() > deadline or process.poll() is not None:
                pytest.fail("Chromium did not open its DevTools port")
            time.sleep(0.1)
        devtools = f"http://127.0.0.1:{port_file.read_text().split()[0]}"

        def open_page(url: str) -> Page:
            with urllib.request.urlopen(f"{devtools}/json/list", timeout=10) as response:
                targets = json.load(response)
            target = next(t for t in targets if t["type"] == "page")
            page = Page(stack.enter_context(connect(target["webSocketDebuggerUrl"], max_size=50_000_000)))
            page.call("Page.enable")
            page.call("Page.navigate", url=url)
            return page

        yield open_page
    finally:
        stack.close()
        process.terminate()
        process.wait(timeout=20)


def test_graphiql_runs_an_authorized_query(
    server: str, browser: Callable[[str], Page], new_user: Callable[..., tuple[str, str]], gql: Gql,
    tmp_path: Path,
) -> None:
    user_id, key = new_user("browser")
    gql("mutation($n: String!) { createCube(input: {name: $n}) { cubeId } }", key, n="Cube seen through GraphiQL")
    query = "{ me { user { userId name } accessibleCubes { name } } }"
    # GraphiQL's page reads ?q= and ?headers= with decodeURIComponent, so spaces must be %20, not '+'.
    url = f"{server}/graphql?" + urllib.parse.urlencode(
        {"q": query, "headers": json.dumps({"Authorization": f"Bearer {key}"})}, quote_via=urllib.parse.quote
    )
    page = browser(url)
    page.wait_for("document.querySelector('.graphiql-execute-button') !== null")
    # The scripts came from this server, not from unpkg.
    scripts = page.evaluate("Array.from(document.scripts).map(s => s.src).filter(Boolean)")
    assert scripts and all(src.startswith(server) for src in scripts), scripts
    page.evaluate("document.querySelector('.graphiql-execute-button').click()")
    shown = page.wait_for(
        "(() => { const pane = document.querySelector('.result-window');"
        " const text = pane ? pane.innerText : '';"
        " return text.includes('Cube seen through GraphiQL') ? text : ''; })()"
    )
    assert user_id in shown and "Browser" in shown
    shot = page.call("Page.captureScreenshot", format="png")
    (tmp_path / "graphiql.png").write_bytes(base64.b64decode(shot["data"]))
    if os.environ.get("MEMOS_SCREENSHOT_DIR"):
        target = Path(os.environ["MEMOS_SCREENSHOT_DIR"]) / "graphiql.png"
        target.write_bytes(base64.b64decode(shot["data"]))
