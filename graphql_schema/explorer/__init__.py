"""The memory explorer: a page at /explorer that draws a cube's graph through the public GraphQL API.

The page (index.html, served only at /explorer with its headers), its script and its style (static/) are
plain files (no build step); the graph library, Cytoscape.js, is the
npm package scripts/setup.sh installs into the cache (MEMOS_EXPLORER_ASSETS). The page runs only its own
origin's scripts and talks only to its own origin (its Content-Security-Policy), never framed.
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from graphql_schema.assets import installed_node_modules

PAGE = Path(__file__).parent / "index.html"
STATIC = Path(__file__).parent / "static"  # explorer.js, explorer.css: no page here, served without its CSP
# Scripts, styles and requests: this origin only; nothing inline, no eval, no plugins, no framing. The
# key typed into the page can only go to /graphql here, and no injected markup could run or send it.
EXPLORER_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": EXPLORER_CSP,
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


async def explorer_page(_: Request) -> Response:
    """The explorer's HTML page, with its Content-Security-Policy."""
    return FileResponse(PAGE, media_type="text/html", headers=PAGE_HEADERS)


def explorer_routes() -> list[BaseRoute]:
    """/explorer, its own files under /explorer/static and Cytoscape.js under /explorer/vendor (when set-up
    installed it; without it the page says that it cannot draw)."""
    routes: list[BaseRoute] = [
        Route("/explorer", explorer_page, methods=["GET"]),
        Mount("/explorer/static", app=StaticFiles(directory=STATIC), name="explorer-static"),
    ]
    modules = installed_node_modules("MEMOS_EXPLORER_ASSETS", "explorer-assets", "cytoscape")
    if modules is not None:
        dist = modules / "cytoscape" / "dist"
        routes.append(Mount("/explorer/vendor", app=StaticFiles(directory=dist), name="explorer-vendor"))
    return routes
