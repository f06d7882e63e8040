"""CORS in headless Chromium: a page on a configured origin calls the API with an API key (the browser sends
a preflight first) and reads the answer; a page on any other origin cannot.

Three servers on 127.0.0.1, each port its own origin: the API (http.cors_origins names the second), a page
on the configured origin and the same page on an origin nobody configured. The fetches run in the pages,
so the browser, not the test, decides what a page may read.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from graphql_schema.app import create_app
from memos_graph.config import HTTPSettings
from memos_graph.services.runtime import Runtime
from testkit.keys import ROOT_KEY
from testkit.servers import free_port, serve_app
from tests.browser import Browser, Page

pytestmark = pytest.mark.neo4j

WHOAMI = "{ me { user { userId role } } }"


class RequestLog:
    """ASGI middleware noting each HTTP request's method, path and Origin, to see what the browser sent."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.requests: list[tuple[str, str, str | None]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = dict(scope["headers"])
            origin = headers.get(b"origin")
            self.requests.append((scope["method"], scope["path"], None if origin is None else origin.decode()))
        await self.app(scope, receive, send)

    def from_origin(self, origin: str) -> list[str]:
        """The methods of the requests to /graphql that came from a page on this origin."""
        return [method for method, path, sent_by in self.requests if path == "/graphql" and sent_by == origin]


async def blank_page(_: Request) -> HTMLResponse:
    return HTMLResponse("<!doctype html><title>a page on another origin</title><p>fetches run here</p>")


@dataclass(frozen=True)
class Origins:
    api: str
    allowed: str  # in http.cors_origins
    other: str  # not configured
    log: RequestLog


@pytest.fixture(scope="module")
def origins(keyed_runtime: Runtime) -> Iterator[Origins]:
    page_port = free_port()
    allowed = f"http://127.0.0.1:{page_port}"
    config = keyed_runtime.config.model_copy(update={"http": HTTPSettings(cors_origins=(allowed,))})
    log = RequestLog(create_app(runtime=replace(keyed_runtime, config=config)))
    pages = Starlette(routes=[Route("/", blank_page)])
    with serve_app(log) as api, serve_app(pages, page_port), serve_app(pages) as other:
        yield Origins(api, allowed, other, log)


def fetch_from(page: Page, url: str, headers: dict[str, str], query: str) -> dict[str, Any]:
    """Run fetch() in the page; what the page could read (status, content type, body) or the rejection."""
    script = f"""
        fetch({json.dumps(url)}, {{method: "POST", headers: {json.dumps(headers)},
                                   body: JSON.stringify({{query: {json.dumps(query)}}})}})
          .then(async (response) => ({{status: response.status, type: response.headers.get("content-type"),
                                       body: await response.json()}}))
          .catch((error) => ({{rejected: String(error)}}))
    """
    result: dict[str, Any] = page.evaluate(script, await_promise=True)
    return result


def test_a_page_on_a_configured_origin_calls_the_api_with_a_key(origins: Origins, browser: Browser) -> None:
    page = browser.open(f"{origins.allowed}/")
    assert page.evaluate("location.origin") == origins.allowed
    json_body = {"Authorization": f"Bearer {ROOT_KEY}", "Content-Type": "application/json"}
    answer = fetch_from(page, f"{origins.api}/graphql", json_body, WHOAMI)
    assert answer == {
        "status": 200,
        "type": "application/json",
        "body": {"data": {"me": {"user": {"userId": "root", "role": "ROOT"}}}},
    }
    # The Authorization header is not CORS-safelisted: the browser asked first (OPTIONS), then posted.
    assert origins.log.from_origin(origins.allowed) == ["OPTIONS", "POST"]
    # A refusal is readable too (the page can tell a bad key from a network failure) ...
    refused = fetch_from(page, f"{origins.api}/graphql", {**json_body, "Authorization": "Bearer wrong"}, WHOAMI)
    assert refused["status"] == 401 and refused["body"]["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    # ... and so is the GraphQL-over-HTTP media type with its status codes (Accept is an allowed header).
    graphql_json = {**json_body, "Accept": "application/graphql-response+json, application/json;q=0.9"}
    invalid = fetch_from(page, f"{origins.api}/graphql", graphql_json, "{ me { nope } }")
    assert invalid["status"] == 400 and invalid["type"] == "application/graphql-response+json; charset=utf-8"
    assert "data" not in invalid["body"] and invalid["body"]["errors"]
    assert page.errors == [], page.errors


def test_a_page_on_another_origin_cannot_read_the_api(origins: Origins, browser: Browser) -> None:
    page = browser.open(f"{origins.other}/")
    assert page.evaluate("location.origin") == origins.other
    headers = {"Authorization": f"Bearer {ROOT_KEY}", "Content-Type": "application/json"}
    answer = fetch_from(page, f"{origins.api}/graphql", headers, WHOAMI)
    assert set(answer) == {"rejected"} and "TypeError" in answer["rejected"], answer
    # The preflight was refused, so the browser never sent the request itself: nothing ran for that page.
    assert origins.log.from_origin(origins.other) == ["OPTIONS"]
    # The same page may still load its own origin's resources: the refusal is CORS, not the page.
    assert page.evaluate("fetch('/').then((r) => r.status)", await_promise=True) == 200
