"""The mcp command: memos-graph as an MCP server for agents, over stdio (as --user) or streamable HTTP."""

from __future__ import annotations

import argparse
import contextlib
import sys
from typing import Any

from memos_graph.cli.session import Outcome, Session
from memos_graph.mcp_server import serve_http, serve_stdio
from memos_graph.mcp_server.http import DEFAULT_HOST, DEFAULT_PORT


def run_mcp(args: argparse.Namespace, session: Session) -> Outcome:
    """Serve MCP until the client goes away (stdio) or the process is interrupted (http)."""
    # On stdio, standard output carries the protocol only: whatever start-up prints goes to stderr.
    with contextlib.redirect_stdout(sys.stderr):
        services = session.mos.services
        if args.transport == "stdio":
            session.actor()  # an unknown or inactive --user fails now, not at the first call
    if args.transport == "stdio":
        # The process's own stdout, also under --json (which sends stray prints to stderr).
        with contextlib.redirect_stdout(sys.__stdout__):
            serve_stdio(services, session.user_id)
    else:
        serve_http(services, args.host, args.port)
    return Outcome({"transport": args.transport, "stopped": True}, "")


def register(commands: argparse._SubParsersAction[Any], common: argparse.ArgumentParser) -> None:
    """Add the mcp command."""
    mcp = commands.add_parser(
        "mcp",
        parents=[common],
        help="serve the MCP tools and resources to agents (stdio or streamable HTTP)",
        description="Serve memos-graph to MCP clients (Claude Desktop, Cursor, any agent). stdio: every call "
        "acts as --user (default: the config's user_id), trusted like every other command of this tool. http: "
        "streamable HTTP at http://HOST:PORT/mcp, each request authenticated by its API key (Authorization: "
        "Bearer <key>), 401 without one; plain HTTP, so keep it on 127.0.0.1 or behind a TLS proxy.",
    )
    mcp.add_argument("--transport", choices=("stdio", "http"), default="stdio", help="default: stdio")
    mcp.add_argument("--host", default=DEFAULT_HOST, help=f"http: address to listen on (default {DEFAULT_HOST})")
    mcp.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"http: port to listen on (default {DEFAULT_PORT})")
    mcp.set_defaults(handler=run_mcp)
