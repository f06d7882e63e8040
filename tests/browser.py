"""Headless Chromium for the browser tests, driven over the DevTools protocol.

Used by tests/graphql/test_graphiql_browser.py, test_cors_browser.py and test_explorer_browser.py. Where no
Chromium is installed the tests skip, unless CI=true: there a missing browser fails them (scripts/test.sh
installs Debian's package under CI).
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import os
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.sync.client import ClientConnection, connect

# This machine has no route out: everything that would phone home (updates, sync, safe browsing lists,
# QUIC probes) is off, or Chromium stalls on it.
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
    """The Chromium binary; skips the test where there is none, fails it under CI=true."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    if os.environ.get("CI") == "true":
        pytest.fail("Chromium is not installed (scripts/test.sh installs it with apt-get under CI)")
    pytest.skip("Chromium is not installed")


class Page:
    """A DevTools connection to one page: commands, script evaluation, and the page's errors so far."""

    def __init__(self, websocket: ClientConnection) -> None:
        self._ws = websocket
        self._ids = itertools.count(1)
        self.errors: list[str] = []  # uncaught exceptions and console errors, as they arrived

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        """Send one DevTools command and return its result (events arriving meanwhile are noted)."""
        message_id = next(self._ids)
        self._ws.send(json.dumps({"id": message_id, "method": method, "params": params}))
        while True:
            reply = json.loads(self._ws.recv(timeout=30))
            if reply.get("id") == message_id:
                if "error" in reply:
                    raise RuntimeError(reply["error"])
                result: dict[str, Any] = reply.get("result", {})
                return result
            self._note(reply)

    def _note(self, event: dict[str, Any]) -> None:
        params = event.get("params", {})
        if event.get("method") == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            self.errors.append(details.get("exception", {}).get("description") or details.get("text", ""))
        elif event.get("method") == "Log.entryAdded":
            entry = params.get("entry", {})
            # A 4xx answer is logged as a network error; the tests check statuses themselves.
            if entry.get("level") == "error" and entry.get("source") != "network":
                self.errors.append(entry.get("text", ""))

    def navigate(self, url: str) -> None:
        """Load a URL and wait until its document (not the previous one: that one is marked) has loaded."""
        self.evaluate("window.__replacedByNavigation = true")
        self.call("Page.navigate", url=url)
        self.wait_for("!window.__replacedByNavigation && document.readyState === 'complete'")

    def evaluate(self, expression: str, await_promise: bool = False) -> Any:
        """The value of a JavaScript expression in the page (awaited when it is a promise)."""
        reply = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=await_promise)
        if "exceptionDetails" in reply:
            details = reply["exceptionDetails"]
            raise RuntimeError(details.get("exception", {}).get("description") or details.get("text"))
        return reply["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 45.0) -> Any:
        """Poll an expression until it is truthy; returns its value."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(0.25)
        raise AssertionError(f"timed out waiting for {expression}; page errors: {self.errors}")

    def screenshot(self, path: Path) -> None:
        """Save what the page shows as a PNG."""
        shot = self.call("Page.captureScreenshot", format="png")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(shot["data"]))


class Browser:
    """A running headless Chromium; open() gives its page, navigated to a URL."""

    def __init__(self, devtools_url: str, stack: contextlib.ExitStack) -> None:
        self._devtools = devtools_url
        self._stack = stack

    def open(self, url: str) -> Page:
        """Connect to the browser's page, turn on error reporting, and load the URL."""
        with urllib.request.urlopen(f"{self._devtools}/json/list", timeout=10) as response:
            targets = json.load(response)
        target = next(t for t in targets if t["type"] == "page")
        page = Page(self._stack.enter_context(connect(target["webSocketDebuggerUrl"], max_size=50_000_000)))
        for domain in ("Page", "Runtime", "Log"):
            page.call(f"{domain}.enable")
        page.navigate(url)
        return page


@contextlib.contextmanager
def launch_chromium(profile: Path) -> Iterator[Browser]:
    """Start headless Chromium with a fresh profile directory; stop it when the block ends."""
    process = subprocess.Popen(
        [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    with contextlib.ExitStack() as stack:
        try:
            port_file = profile / "DevToolsActivePort"
            deadline = time.monotonic() + 30
            while not port_file.exists() or not port_file.read_text().strip():
                if time.monotonic() > deadline or process.poll() is not None:
                    pytest.fail("Chromium did not open its DevTools port")
                time.sleep(0.1)
            yield Browser(f"http://127.0.0.1:{port_file.read_text().split()[0]}", stack)
        finally:
            stack.close()
            process.terminate()
            process.wait(timeout=20)
