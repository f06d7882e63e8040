"""Operator commands: the local Neo4j (scripts/neo4j.sh), the GraphQL server, the graph schema."""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import memos_graph
from memos_graph.cli.session import Outcome, Session
from memos_graph.errors import BackendUnavailable, ConfigurationError, FeatureNotAvailable
from memos_graph.services.wiring import apply_schema

NEO4J_ACTIONS = ("start", "stop", "status")


def neo4j_script() -> Path:
    """scripts/neo4j.sh of the checkout this package runs from; a wheel install has none."""
    script = Path(memos_graph.__file__).resolve().parents[1] / "scripts" / "neo4j.sh"
    if not script.is_file():
        raise FeatureNotAvailable(
            f"the local Neo4j script is not part of this installation (looked for {script}); "
            "run memos-graph from a checkout of the repository, or manage Neo4j yourself and set NEO4J_URI"
        )
    return script


def run_neo4j(args: argparse.Namespace, session: Session) -> Outcome:
    """Run scripts/neo4j.sh start|stop|status; its own messages go to stderr."""
    action: str = args.action
    script = neo4j_script()
    # With --json the script's stdout (status line) becomes part of the one JSON document instead.
    completed = subprocess.run(
        ["bash", str(script), action], stdout=subprocess.PIPE if args.json else None, text=True, check=False
    )
    output = (completed.stdout or "").strip()
    if completed.returncode != 0:
        what = "the local Neo4j is not running" if action == "status" else f"neo4j.sh {action} failed"
        raise BackendUnavailable(f"{what} (exit {completed.returncode}){': ' + output if output else ''}")
    return Outcome({"action": action, "output": output}, "")


def run_serve(args: argparse.Namespace, session: Session) -> Outcome:
    """Replace this process with `python -m graphql_schema` (the GraphQL server); never returns."""
    # Only located, never imported: the GraphQL layer depends on memos_graph, not the other way round.
    if importlib.util.find_spec("graphql_schema") is None:
        raise FeatureNotAvailable("the GraphQL server package (graphql_schema) is not installed")
    argv = [sys.executable, "-m", "graphql_schema", "--host", args.host, "--port", str(args.port)]
    if session.config_path is not None:
        argv += ["--config", session.config_path]
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, argv)


def run_schema(args: argparse.Namespace, session: Session) -> Outcome:
    """Create missing constraints and indexes and check the vector index against the embedder's dimension."""
    applied = apply_schema(session.config)
    model, dimension = applied.embedding_model, applied.embedding_dim
    return Outcome(
        {"applied": True, "embedding_model": model, "embedding_dim": dimension},
        f"schema applied (vector index: {model}, dimension {dimension})",
    )


def run_root_key(args: argparse.Namespace, session: Session) -> Outcome:
    """Replace ROOT's API key with the configured one (MEMOS_ROOT_API_KEY or the config file's root_api_key).

    Start-ups store that key only while ROOT has none; this is the operator's explicit way to replace it.
    """
    key = session.config.root_api_key
    if key is None:
        raise ConfigurationError("no root API key is configured (set MEMOS_ROOT_API_KEY or root_api_key)")
    user = session.mos.users.apply_root_key(session.config.user_id, key)
    return Outcome({"user_id": user.user_id, "applied": True}, f"root user '{user.user_id}' now has the configured key")


def run_maintenance(args: argparse.Namespace, session: Session) -> Outcome:
    """Run a maintenance task (memos_graph/maintenance.py) with the configured embedder."""
    from memos_graph.maintenance import run_task

    data, text = run_task(args.task, session.config, args.page_size)
    return Outcome(data, text)


def register(commands: argparse._SubParsersAction[Any], common: argparse.ArgumentParser) -> None:
    """Add the neo4j, serve and schema commands."""
    neo4j = commands.add_parser(
        "neo4j",
        parents=[common],
        help="start, stop or check the local Neo4j (scripts/neo4j.sh of a checkout)",
        description="Manage the local Neo4j that scripts/neo4j.sh runs (not the one NEO4J_URI may point at). "
        "`status` exits 0 when it runs and 7 when it is stopped.",
    )
    neo4j.add_argument("action", choices=NEO4J_ACTIONS)
    neo4j.set_defaults(handler=run_neo4j)

    serve = commands.add_parser(
        "serve",
        parents=[common],
        help="serve the GraphQL API (python -m graphql_schema)",
        description="Serve the GraphQL API with uvicorn. Callers authenticate with API keys; --user and --json "
        "do not apply. --config is passed on to the server.",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
    serve.set_defaults(handler=run_serve)

    root_key = commands.add_parser(
        "root-key",
        parents=[common],
        help="replace ROOT's API key with the configured one",
        description="Store MEMOS_ROOT_API_KEY (or the config file's root_api_key) as the root user's key, "
        "replacing the one it has. Starting the server, MOS() or any command stores that key only while ROOT "
        "has no key yet, so a rotated key survives restarts; this is the explicit way to replace it.",
    )
    root_key.add_argument("action", choices=("apply",))
    root_key.set_defaults(handler=run_root_key)

    schema = commands.add_parser(
        "schema",
        parents=[common],
        help="apply the graph schema (constraints and indexes)",
        description="Create missing constraints and indexes (idempotent) and check that the vector index has "
        "the configured embedder's dimension. Loads the embedder to learn that dimension. Every other "
        "command does the same at start-up unless the configuration sets apply_schema to false.",
    )
    schema.add_argument("action", choices=("apply",))
    schema.set_defaults(handler=run_schema)

    maintenance = commands.add_parser(
        "maintenance",
        parents=[common],
        help="re-embed the graph with the configured embedder, rebuild the search indexes, or give old "
        "memories their event time",
        description="re-embed: embed every memory again with the configured embedder (a page per transaction, "
        "progress on stderr), record its model and dimension on every cube, and rebuild the vector indexes "
        "(the shared one and the large cubes' own) for its dimension; stop every server and writer first. "
        "Start-ups refuse a graph of another model until it ran to the end. rebuild-indexes: drop and "
        "repopulate the vector and fulltext indexes. event-times: give memories stored before event times "
        "existed their event time (metadata.memory_time, event_start, event_end), read as an add reads it; "
        "safe beside running servers, and re-runnable.",
    )
    maintenance.add_argument("task", choices=("re-embed", "rebuild-indexes", "event-times"))
    maintenance.add_argument(
        "--page-size",
        type=int,
        default=500,
        metavar="N",
        help="memories per transaction (re-embed, event-times; default 500)",
    )
    maintenance.set_defaults(handler=run_maintenance)
