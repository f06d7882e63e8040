"""GraphiQL in headless Chromium: the page loads (its scripts served by this server), a query with the
Authorization header runs, and the answer shows on screen; under its Content-Security-Policy (no inline
script but its own, by hash), with the key typed into the Headers tab kept out of localStorage (security
probe 2026-12, L9).

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
from starlette.testclient import TestClient

from graphql_schema.endpoint import MemosGraphQL
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


def test_the_graphiql_page_keeps_no_key_and_runs_only_its_own_scripts(client: TestClient) -> None:
    page = client.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "graphiql" in page.text.lower()
    assert "shouldPersistHeaders: false" in page.text and "shouldPersistHeaders: true" not in page.text
    assert "storage: window.sessionStorage" in page.text
    policy = dict(
        part.strip().split(" ", 1) for part in page.headers["content-security-policy"].split(";") if part.strip()
    )
    assert policy["default-src"] == "'none'" and policy["connect-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'" and policy["base-uri"] == "'none'"
    assert "unsafe-inline" not in policy["script-src"] and "unsafe-eval" not in policy["script-src"]
    assert policy["script-src"].count("'sha256-") == page.text.count("<script>") == 1
    assert page.headers["cache-control"] == "no-store" and page.headers["referrer-policy"] == "no-referrer"


def test_a_key_typed_into_graphiql_is_not_kept_in_local_storage(
    server: str,
    browser: Browser,
    new_user: Callable[..., tuple[str, str]],
    tmp_path: Path,
) -> None:
    user_id, key = new_user("typist")
    query = "{ me { user { userId } } }"
    page = browser.open(f"{server}/graphql?" + urllib.parse.urlencode({"q": query}, quote_via=urllib.parse.quote))
    page.wait_for("document.querySelector('.graphiql-execute-button') !== null")
    # Type the header as a person would: open the Headers tab, focus its editor, insert the text.
    page.evaluate("[...document.querySelectorAll('button')].find(b => b.textContent.trim() === 'Headers').click(), 1")
    editor = "document.querySelector('.graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror')"
    page.wait_for(f"!!{editor}")
    # The editor opens with a template: select it all (Ctrl-A), then type over it.
    page.evaluate(f"{editor}.CodeMirror.focus(), {editor}.CodeMirror.execCommand('selectAll'), 1")
    page.call("Input.insertText", text=json.dumps({"Authorization": f"Bearer {key}"}))
    page.evaluate("document.querySelector('.graphiql-execute-button').click()")
    shown = page.wait_for(
        "(() => { const pane = document.querySelector('.result-window');"
        f" const text = pane ? pane.innerText : ''; return text.includes({json.dumps(user_id)}) ? text : ''; }})()"
    )
    assert user_id in shown
    # GraphiQL saves its tabs and history as it goes; give it the time to, then read what the origin keeps.
    page.evaluate("new Promise(resolve => setTimeout(resolve, 1000))", await_promise=True)
    kept = "JSON.stringify(Object.fromEntries(Object.keys({0}).map(k => [k, {0}.getItem(k)])))"
    stored = page.evaluate(kept.format("localStorage"))
    assert "mgk_" not in stored and key not in stored, stored
    # What GraphiQL keeps (its history holds the headers of each query run) lives in this tab only.
    assert "graphiql:queries" in page.evaluate(kept.format("sessionStorage"))
    assert "mgk_" not in page.evaluate("document.cookie")
    assert page.errors == []  # no CSP violation, no script error
    page.screenshot(Path(os.environ.get("MEMOS_SCREENSHOT_DIR") or tmp_path) / "graphiql-typed-key.png")


def test_without_installed_assets_the_policy_admits_unpkg_for_scripts_only_by_source() -> None:
    page = MemosGraphQL(services_of=None, assets_url=None)
    policy = dict(part.strip().split(" ", 1) for part in page._page_headers["Content-Security-Policy"].split(";"))
    assert policy["script-src"].startswith("'self' https://unpkg.com 'sha256-"), policy
    assert "unsafe-inline" not in policy["script-src"] and policy["connect-src"] == "'self'"
    assert 'src="https://unpkg.com/graphiql@' in page.graphql_ide_html  # SRI-pinned, as Strawberry ships them


HEADERS_EDITOR = "document.querySelector('.graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror')"
# Requests the page sent to /graphql by fetch (the page itself is a navigation, not counted).
GRAPHQL_FETCHES = (
    "performance.getEntriesByType('resource')"
    ".filter((e) => e.initiatorType === 'fetch' && new URL(e.name).pathname === '/graphql').length"
)
# The Docs pane's root types, once the schema is loaded (GraphiQL 3's doc explorer).
DOCS_TYPES = (
    "[...document.querySelectorAll('.graphiql-doc-explorer .graphiql-doc-explorer-type-name')]"
    ".map((a) => a.textContent)"
)


def test_graphiql_starts_with_a_key_template_and_loads_the_schema_once_a_key_is_typed(
    server: str,
    browser: Browser,
    new_user: Callable[..., tuple[str, str]],
    tmp_path: Path,
) -> None:
    user_id, key = new_user("newcomer")
    page = browser.open(f"{server}/graphql")
    page.wait_for("document.querySelector('.graphiql-execute-button') !== null")
    # The first screen says what to do: the query editor explains, the Headers editor holds the template.
    document = page.evaluate("document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.getValue()")
    assert "<your API key>" in document and "query Me" in document, document
    page.wait_for(f"!!{HEADERS_EDITOR}")  # the Headers tab is the one open
    template = json.loads(page.evaluate(f"{HEADERS_EDITOR}.CodeMirror.getValue()"))
    assert template == {"Authorization": "Bearer <your API key>"}
    # Docs open: no schema without a key, and nothing was sent to the server for it (no failed key spent).
    page.evaluate("document.querySelector('button[aria-label=\"Show Documentation Explorer\"]').click(), 1")
    page.wait_for("!!document.querySelector('.graphiql-doc-explorer')")
    page.evaluate("new Promise(resolve => setTimeout(resolve, 1000))", await_promise=True)
    assert page.evaluate(DOCS_TYPES) == []
    assert page.evaluate(GRAPHQL_FETCHES) == 0
    # Running the template as it is answers where the key goes, still without a request.
    page.evaluate("document.querySelector('.graphiql-execute-button').click()")
    hint = page.wait_for(
        "(() => { const pane = document.querySelector('.result-window');"
        " const text = pane ? pane.innerText : ''; return text.includes('no API key yet') ? text : ''; })()"
    )
    assert "Headers tab" in hint and page.evaluate(GRAPHQL_FETCHES) == 0

    # Typing the key over the template: the schema loads by itself (no click on the re-fetch button).
    page.evaluate(f"{HEADERS_EDITOR}.CodeMirror.focus(), {HEADERS_EDITOR}.CodeMirror.execCommand('selectAll'), 1")
    page.call("Input.insertText", text=json.dumps({"Authorization": f"Bearer {key}"}))
    types = page.wait_for(f"(() => {{ const names = {DOCS_TYPES}; return names.includes('Query') ? names : null; }})()")
    assert "Mutation" in types and "Subscription" in types
    assert page.evaluate(GRAPHQL_FETCHES) >= 1  # the introspection, sent with the key
    # And the default document's query runs with it.
    page.evaluate("document.querySelector('.graphiql-execute-button').click()")
    shown = page.wait_for(
        "(() => { const pane = document.querySelector('.result-window');"
        f" const text = pane ? pane.innerText : ''; return text.includes({json.dumps(user_id)}) ? text : ''; }})()"
    )
    assert "Newcomer" in shown and "no API key yet" not in shown
    page.evaluate("new Promise(resolve => setTimeout(resolve, 1000))", await_promise=True)
    assert key not in page.evaluate("JSON.stringify({...localStorage})")
    assert page.errors == [], page.errors
    page.screenshot(Path(os.environ.get("MEMOS_SCREENSHOT_DIR") or tmp_path) / "graphiql-docs.png")
