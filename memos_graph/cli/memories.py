"""Memory commands: add (texts, a conversation file, documents), search, chat."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from memos_graph.cli.session import Outcome, Session, to_jsonable
from memos_graph.domain import TextualMemoryItem
from memos_graph.errors import InvalidInput


def read_messages(source: str) -> object:
    """The JSON document in the file (or on standard input for '-'); the service checks its shape."""
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"cannot read messages file {source}: {exc}") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"messages file {source} is not JSON: {exc}") from exc


def run_add(args: argparse.Namespace, session: Session) -> Outcome:
    """Add memories from exactly one kind of input, in one transaction."""
    actor = session.actor()
    cube_id: str = args.cube or session.mos.cubes.default_cube(actor).cube.cube_id
    messages = None if args.messages is None else read_messages(args.messages)
    ids = session.mos.services.add(
        actor,
        messages=messages,
        content=args.text,
        doc_path=args.doc,
        cube_id=cube_id,
        session_id=args.session,
    )
    lines = [f"added {len(ids)} memories to cube '{cube_id}'", *ids]
    return Outcome({"cube_id": cube_id, "ids": ids}, "\n".join(lines))


def _item(item: TextualMemoryItem) -> dict[str, Any]:
    data = item.model_dump(mode="json")
    if data["metadata"].get("embedding") is None:
        data["metadata"].pop("embedding", None)
    return data


def run_search(args: argparse.Namespace, session: Session) -> Outcome:
    """Top-k memories per cube: the --cube ones, else the acting user's loaded cubes."""
    where = {name: value for name in ("time_from", "time_before") if (value := getattr(args, name)) is not None}
    result = session.mos.search(
        args.query,
        user_id=session.user_id,
        install_cube_ids=args.cube,
        top_k=args.top_k,
        threshold=args.threshold,
        filter=where or None,
        reference_time=args.reference_time,
    )
    groups = result["text_mem"]
    data = {
        "text_mem": [
            {"cube_id": group["cube_id"], "memories": [_item(item) for item in group["memories"]]} for group in groups
        ],
        "act_mem": to_jsonable(result.get("act_mem", [])),
        "para_mem": to_jsonable(result.get("para_mem", [])),
    }
    lines = []
    for group in groups:
        lines.append(f"cube {group['cube_id']}: {len(group['memories'])} memories")
        for item in group["memories"]:
            score = item.metadata.relativity
            lines.append(f"  {score if score is not None else 0.0:.4f}  {item.id}  {item.memory}")
    return Outcome(data, "\n".join(lines) or "no readable cube to search")


def run_chat(args: argparse.Namespace, session: Session) -> Outcome:
    """One chat turn with the acting user's memories and recent history."""
    answer = session.mos.chat(args.query, user_id=session.user_id, session_id=args.session)
    return Outcome({"answer": answer}, answer)


def register(commands: argparse._SubParsersAction[Any], common: argparse.ArgumentParser) -> None:
    """Add the add, search and chat commands."""
    add = commands.add_parser(
        "add",
        parents=[common],
        help="add memories: texts, a conversation (JSON file) or documents",
        description="Add memories to --cube (default: the acting user's first loaded own cube), all in one "
        "transaction. --messages reads a JSON list of {role, content[, chat_time, message_id, name]} ('-': "
        "standard input). --doc takes a file or folder inside MEMOS_DOCUMENT_ROOTS (documents.roots).",
    )
    add.add_argument("--cube", help="cube id (default: the acting user's default cube)")
    add.add_argument("--session", help="session id stored on the memories")
    source = add.add_mutually_exclusive_group(required=True)
    source.add_argument("--text", action="append", metavar="TEXT", help="a memory's text (repeat for several)")
    source.add_argument("--messages", metavar="FILE.json", help="a conversation as a JSON list of messages")
    source.add_argument("--doc", metavar="PATH", help="a document file or folder (.md, .txt)")
    add.set_defaults(handler=run_add)

    search = commands.add_parser("search", parents=[common], help="search memories (hybrid: vector + BM25)")
    search.add_argument("query")
    search.add_argument(
        "--cube",
        action="append",
        metavar="CUBE_ID",
        help="search this cube (repeat for several; default: the acting user's loaded cubes)",
    )
    search.add_argument("--top-k", type=int, help="memories per cube (default: the configured top_k)")
    search.add_argument("--threshold", type=float, help="leave out results with relativity below this (0..1)")
    search.add_argument(
        "--time-from", metavar="ISO", help="only memories whose event happened at or after this (ISO 8601 with offset)"
    )
    search.add_argument("--time-before", metavar="ISO", help="only memories whose event happened before this")
    search.add_argument(
        "--reference-time", metavar="ISO", help="when the question is asked ('last week' is read against it)"
    )
    search.set_defaults(handler=run_search)

    chat = commands.add_parser(
        "chat",
        parents=[common],
        help="ask the configured chat model, with memories",
        description="Needs a chat model: MEMOS_LLM_MODEL (and MEMOS_LLM_API_BASE for a self-hosted endpoint), "
        "or an `llm` section in --config. The provider's key comes from its usual variable (OPENAI_API_KEY, ...).",
    )
    chat.add_argument("query")
    chat.add_argument("--session", help="chat session id (history is kept per user and session)")
    chat.set_defaults(handler=run_chat)
