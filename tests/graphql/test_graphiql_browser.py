"""GraphiQL in headless Chromium: the page loads (its scripts served by this server), a query with the
Authorization header runs, and the answer shows on screen.

Chromium is driven over the DevTools protocol (tests/browser.py). Skipped only where no Chromium is
installed and CI is not set; under CI=true a missing browser fails the test.
"""

from __future__ import annotations

import json
import os
import urllib.parse
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.browser import Browser
from tests.graphql.conftest import Gql

pytestmark = pytest.mark.neo4j


def test_graphiql_runs_an_authorized_query(
    server: str,
    browser: Browser,
    new_user: Callable[..., tuple[str, str]],
    gql: Gql,
    tmp_path: Path,
) -> None:
    user_id, key = new_user("browser")
    gql("mutation($n: String!) { createCube(input: {name: $n}) { cubeId } }", key, n="Cube seen through GraphiQL")
    query = "{ me { user { userId name } accessibleCubes { name } } }"
    # GraphiQL's page reads ?q= and ?headers= with decodeURIComponent, so spaces must be %20, not '+'.
    url = f"{server}/graphql?" + urllib.parse.urlencode(
        {"q": query, "headers": json.dumps({"Authorization": f"Bearer {key}"})}, quote_via=urllib.parse.quote
    )
    page = browser.open(url)
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
    page.screenshot(Path(os.environ.get("MEMOS_SCREENSHOT_DIR") or tmp_path) / "graphiql.png")
