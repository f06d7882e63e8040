"""memos-graph: the operator's command line over the MOS API.

    memos-graph [--user ID] [--config FILE] [--json] [--debug] COMMAND ...

Commands: ``neo4j start|stop|status``, ``serve``, ``schema apply``, ``root-key apply``,
``user create|list|deactivate|reactivate|delete|reset-key``, ``cube create|share|revoke|delete|dump|import``,
``add``, ``search``, ``chat``, ``mcp``, ``maintenance re-embed``. The global options may also follow the command.

Trust: the command connects straight to Neo4j with the configured credentials (NEO4J_URI, NEO4J_USER,
NEO4J_PASSWORD or the --config file) and acts as ``--user`` without any API key. Whoever holds the database
credentials can therefore act as any user; this is an operator tool, not a way to give people access.

Output: human-readable text on stdout, messages and progress bars on stderr. With ``--json``, stdout carries
exactly one JSON document, for success and failure alike; a failure is
``{"error": {"code": "NOT_FOUND", "message": "...", "exit_code": 4}}`` where ``code`` is the library error's
machine code (the same as GraphQL's ``extensions.code``; ``USAGE`` and ``INTERNAL`` for the command's own).

Exit codes (also in ``memos-graph --help``):

    0    success
    1    unexpected error (short message; --debug shows the traceback)
    2    usage error (argparse)
    3    InvalidInput
    4    NotFound, CubeNotAccessible
    5    AccessDenied, Unauthenticated
    6    Conflict
    7    BackendUnavailable, IndexUnavailable (and `neo4j status` when the local server is stopped)
    8    ConfigurationError, FeatureNotAvailable
    9    RateLimited (a per-user bound on the chat model; the same call may succeed later)
    130  interrupted
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sys
import traceback
from collections.abc import Sequence
from typing import Any, NoReturn

from memos_graph.cli.exit_codes import EXIT_CODES_HELP, ExitCode, exit_code_for
from memos_graph.errors import MemosError

__all__ = ["ExitCode", "build_parser", "main"]

DESCRIPTION = """\
Operate memos-graph: the local Neo4j, the GraphQL server, the schema, users, cubes and memories.

This is an operator tool: it connects straight to Neo4j with the configured credentials and acts as --user
without an API key, so whoever holds the database credentials can act as any user."""

EPILOG = f"""\
global options may also follow the command (memos-graph user list --json).
--json: stdout carries exactly one JSON document, also on failure:
  {{"error": {{"code": "NOT_FOUND", "message": "...", "exit_code": 4}}}}

{EXIT_CODES_HELP}"""


class UsageError(Exception):
    """argparse refused the command line."""


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser that lets main() report usage errors (as JSON under --json) instead of exiting."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: error: {message}\n{self.format_usage().rstrip()}")


def _common_options() -> argparse.ArgumentParser:
    # SUPPRESS: an option given before the command is not reset by the subcommand's parser.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--user",
        default=argparse.SUPPRESS,
        metavar="ID",
        help="act as this user (default: the config's user_id, MEMOS_USER_ID, else root)",
    )
    common.add_argument(
        "--config",
        default=argparse.SUPPRESS,
        metavar="FILE",
        help="MOSConfig JSON file; environment variables (NEO4J_URI, MEMOS_*, ...) override it",
    )
    common.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="print exactly one JSON document on stdout"
    )
    common.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS, help="verbose logs; tracebacks for unexpected errors"
    )
    return common


def build_parser() -> argparse.ArgumentParser:
    """The whole command line."""
    from memos_graph.cli import accounts, mcp_command, memories, operator

    common = _common_options()
    parser = _Parser(
        prog="memos-graph",
        description=DESCRIPTION,
        epilog=EPILOG,
        parents=[common],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    operator.register(commands, common)
    accounts.register(commands, common)
    memories.register(commands, common)
    mcp_command.register(commands, common)
    return parser


def _print_json(document: Any) -> None:
    sys.stdout.write(json.dumps(document, ensure_ascii=False, indent=2) + "\n")
    sys.stdout.flush()


def _fail(json_mode: bool, code: ExitCode, error_code: str, message: str) -> int:
    if json_mode:
        _print_json({"error": {"code": error_code, "message": message, "exit_code": int(code)}})
    else:
        print(f"memos-graph: {message}", file=sys.stderr)
    return int(code)


def _wants_json(argv: Sequence[str]) -> bool:
    """Whether --json was asked for, known even when the rest of the command line does not parse."""
    for arg in argv:
        if arg == "--":
            return False
        if arg == "--json":
            return True
    return False


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit code (see the module docstring)."""
    # Before anything imports huggingface_hub or litellm: never reach a model hub or a price list online.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    arguments = list(sys.argv[1:] if argv is None else argv)
    json_mode = _wants_json(arguments)
    try:
        args = build_parser().parse_args(arguments)
    except UsageError as exc:
        if json_mode:
            return _fail(True, ExitCode.USAGE, "USAGE", str(exc).splitlines()[0])
        print(exc, file=sys.stderr)
        return int(ExitCode.USAGE)
    except SystemExit as exc:  # --help
        return exc.code if isinstance(exc.code, int) else int(ExitCode.OK)
    args.json = bool(getattr(args, "json", False))
    debug = bool(getattr(args, "debug", False))
    level = logging.INFO if debug else logging.WARNING
    logging.basicConfig(level=level, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    if debug:
        logging.getLogger("memos_graph").setLevel(logging.DEBUG)
    return _run(args, debug)


def _run(args: argparse.Namespace, debug: bool) -> int:
    from memos_graph.cli.progress import tqdm_bar
    from memos_graph.cli.session import Session, to_jsonable
    from memos_graph.services.progress import rendered_by

    session = Session(args)
    try:
        # Under --json, stray prints of any library go to stderr; stdout holds only the document.
        with contextlib.redirect_stdout(sys.stderr) if args.json else contextlib.nullcontext(), rendered_by(tqdm_bar):
            outcome = args.handler(args, session)
    except MemosError as exc:
        code = exit_code_for(exc)
        if debug:
            traceback.print_exc()
        return _fail(args.json, code, exc.code, exc.message)
    except KeyboardInterrupt:
        return _fail(args.json, ExitCode.INTERRUPTED, "INTERRUPTED", "interrupted")
    except Exception as exc:
        if debug:
            traceback.print_exc()
        hint = "" if debug else " (run with --debug for the traceback)"
        return _fail(args.json, ExitCode.UNEXPECTED, "INTERNAL", f"unexpected error: {type(exc).__name__}: {exc}{hint}")
    finally:
        with contextlib.suppress(Exception):
            session.close()
    if args.json:
        _print_json(to_jsonable(outcome.data))
    elif outcome.text:
        print(outcome.text)
    return int(ExitCode.OK)
