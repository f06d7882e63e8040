"""The memos-graph console script, run as a subprocess against the real Neo4j.

Each invocation loads the embedder (seconds), so the tests set up what they do not test in-process and keep
the number of invocations small.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from memos_graph import MOS, UserRole
from memos_graph.cli import ExitCode
from memos_graph.config import Neo4jSettings
from memos_graph.services.runtime import Runtime
from testkit.fake_llm import FakeOpenAI
from testkit.fixtures import count_nodes, process_environment
from testkit.keys import ROOT_KEY
from testkit.servers import free_port

pytestmark = pytest.mark.neo4j


def cli_command() -> list[str]:
    """The installed console script next to this interpreter, else the module."""
    script = Path(sys.executable).parent / "memos-graph"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "memos_graph.cli"]


@dataclass
class Cli:
    """Runs memos-graph with the test Neo4j's credentials and nothing else of the caller's MEMOS_* settings."""

    env: dict[str, str]

    def run(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*cli_command(), *args], env={**self.env, **(env or {})}, capture_output=True, text=True, timeout=300
        )

    def json(self, *args: str, expect: int = 0, env: dict[str, str] | None = None) -> Any:
        """Run with --json, check the exit code, and parse stdout as the one JSON document it must be."""
        done = self.run("--json", *args, env=env)
        shown = f"exit {done.returncode}\nstdout: {done.stdout}\nstderr: {done.stderr[-3000:]}"
        assert done.returncode == expect, shown
        return json.loads(done.stdout)


@pytest.fixture
def cli(neo4j_settings: Neo4jSettings) -> Cli:
    env = process_environment(neo4j_settings)
    return Cli(env)


@pytest.fixture
def owner_with_cube(root: MOS, uid: Callable[[str], str]) -> tuple[str, str]:
    """A USER and a cube it owns, made in-process."""
    user = root.create_user(uid("owner"), UserRole.USER)
    cube = root.create_cube_for_user("notes", owner_id=user, cube_id=uid("notes"))
    return user, cube


def test_help_documents_exit_codes_and_trust(cli: Cli) -> None:
    done = cli.run("--help")
    assert done.returncode == 0
    assert "exit codes:" in done.stdout and "130" in done.stdout
    assert "act as any user" in done.stdout


def test_usage_error_is_json_under_json(cli: Cli) -> None:
    document = cli.json("cube", "share", "only-a-cube", expect=ExitCode.USAGE)
    assert document["error"]["code"] == "USAGE"
    assert "user_id" in document["error"]["message"]


def test_users_cubes_and_sharing(cli: Cli, root: MOS, as_user: Callable[[str], MOS], uid: Callable[[str], str]) -> None:
    alice, guest, cube = uid("alice"), uid("guest"), uid("cube")
    created = cli.json("user", "create", alice, "--name", "Alice")
    assert created["user"] == {**created["user"], "user_id": alice, "user_name": "Alice", "role": "user"}
    # The key printed once authenticates as the new user: only its hash is stored.
    assert root.services.identity.authenticate(created["api_key"]).user_id == alice

    human = cli.run("user", "create", guest, "--role", "guest")
    assert human.returncode == 0, human.stderr
    key = human.stdout.strip().splitlines()[-1].rsplit(" ", 1)[-1]
    assert root.services.identity.authenticate(key).role is UserRole.GUEST

    listed = {user["user_id"]: user for user in cli.json("user", "list")["users"]}
    assert listed[alice]["role"] == "user" and listed[guest]["role"] == "guest"

    made = cli.json("--user", alice, "cube", "create", "diary", "--id", cube)
    assert made["cube"]["cube_id"] == cube and made["cube"]["owner_id"] == alice
    shared = cli.json("cube", "share", cube, guest, "--permission", "read", "--user", alice)
    assert shared["shared"] is True
    cubes = {entry["cube_id"]: entry for entry in as_user(guest).get_user_info()["accessible_cubes"]}
    assert cubes[cube]["owner_id"] == alice and cubes[cube]["can_write"] is False


def test_taking_access_back_and_the_root_key(
    cli: Cli, root: MOS, keyed_runtime: Runtime, uid: Callable[[str], str]
) -> None:
    from testkit.fixtures import apply_root_key

    alice, bob, cube = uid("alice"), uid("bob"), uid("cube")
    root.create_user(alice)
    root.create_user(bob)
    root.create_cube_for_user("diary", owner_id=alice, cube_id=cube)
    root.share_cube_with_user(cube, bob, "write")
    revoked = cli.json("--user", alice, "cube", "revoke", cube, bob)
    assert revoked["revoked"] == "write"
    assert cube not in {c["cube_id"] for c in root.get_user_info(bob)["accessible_cubes"]}
    admin = uid("admin")
    root.create_user(admin, UserRole.ADMIN)
    # An ADMIN's reset only revokes (issue 22, M5): no key is printed; the graph records who did it.
    revoked = cli.json("--user", admin, "user", "reset-key", bob)
    assert revoked == {"user_id": bob, "api_key": None, "revoked": True}
    change = keyed_runtime.users.key_change(bob)
    assert change is not None and (change.by, change.action) == (admin, "revoke")
    key = cli.json("user", "reset-key", bob)["api_key"]
    assert root.services.identity.authenticate(key).user_id == bob
    assert cli.json("user", "delete", alice)["deleted_cubes"] == [cube]
    assert count_nodes(keyed_runtime, "MemCube", id=cube) == 0
    try:
        fresh = "mgk_" + uid("cli-root-key")
        assert cli.json("root-key", "apply", env={"MEMOS_ROOT_API_KEY": fresh})["applied"] is True
        assert root.services.identity.authenticate(fresh).user_id == root.user_id
        refused = cli.json("root-key", "apply", expect=ExitCode.NOT_CONFIGURED)
        assert "no root API key" in refused["error"]["message"]
    finally:
        apply_root_key(keyed_runtime)
    assert root.services.identity.authenticate(ROOT_KEY).user_id == root.user_id


def test_add_texts_messages_documents_then_search(
    cli: Cli, root: MOS, owner_with_cube: tuple[str, str], tmp_path: Path
) -> None:
    user, cube = owner_with_cube
    texts = cli.json("--user", user, "add", "--cube", cube, "--text", "Alice plays the cello", "--text", "Bob runs")
    assert texts["cube_id"] == cube and len(texts["ids"]) == 2

    conversation = tmp_path / "talk.json"
    conversation.write_text(
        json.dumps(
            [
                {"role": "user", "name": "Alice", "content": "I moved to Lyon last spring.", "message_id": "D1:1"},
                {"role": "assistant", "content": "How do you like it?", "message_id": "D1:2"},
            ]
        )
    )
    # No --cube: the user's default cube (its first loaded own cube).
    messages = cli.json("add", "--messages", str(conversation), "--user", user, "--session", "s1")
    assert messages["cube_id"] == cube and len(messages["ids"]) == 2

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "music.md").write_text("# Practice\n\nAlice practises scales on her cello every morning.\n")
    (docs / "garden.txt").write_text("The garden has three apple trees.\n")
    documents = cli.json(
        "--user", user, "add", "--cube", cube, "--doc", str(docs), env={"MEMOS_DOCUMENT_ROOTS": str(tmp_path)}
    )
    assert len(documents["ids"]) == 2

    stored = root.get_all(cube, user_id=user)["text_mem"][0]["memories"]
    assert len(stored) == 6
    by_id = {item.id: item for item in stored}
    assert by_id[messages["ids"][0]].metadata.sources[0].message_id == "D1:1"

    found = cli.json("--user", user, "search", "Which instrument does Alice play?", "--cube", cube, "--top-k", "3")
    (group,) = found["text_mem"]
    assert group["cube_id"] == cube and len(group["memories"]) == 3
    assert "cello" in group["memories"][0]["memory"]
    assert group["memories"][0]["metadata"]["relativity"] > 0

    # Event times: the texts were added today, so a window in 2001 holds none of them; a malformed time is refused
    today = dt.datetime.now(dt.UTC).date().isoformat()
    assert group["memories"][0]["metadata"]["memory_time"] == today
    empty = cli.json(
        "--user", user, "search", "cello", "--cube", cube, "--time-from", "2001-01-01T00:00:00Z",
        "--time-before", "2001-02-01T00:00:00Z", "--reference-time", "2001-01-15T00:00:00Z",
    )  # fmt: skip
    assert empty["text_mem"][0]["memories"] == []
    refused = cli.json(
        "--user", user, "search", "cello", "--cube", cube, "--reference-time", "someday", expect=ExitCode.INVALID_INPUT
    )
    assert "reference_time" in refused["error"]["message"]


def test_chat_with_configured_model(
    cli: Cli, root: MOS, owner_with_cube: tuple[str, str], llm_server: FakeOpenAI, runtime: Runtime, tmp_path: Path
) -> None:
    user, cube = owner_with_cube
    root.add(memory_content=["The user plays the cello"], mem_cube_id=cube, user_id=user)
    llm_server.reset("You play the cello.")
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"llm": {"model": "openai/test-model", "api_key": "sk-test", "num_retries": 0}}))
    answer = cli.json(
        "--config", str(config), "--user", user, "chat", "What do I play?", env={"MEMOS_LLM_API_BASE": llm_server.url}
    )
    assert answer == {"answer": "You play the cello."}
    request = llm_server.requests[-1]
    assert request["model"] == "test-model"
    assert "The user plays the cello" in request["messages"][0]["content"]
    assert count_nodes(runtime, "ChatTurn", user_id=user) == 2


def test_error_exit_codes(cli: Cli, owner_with_cube: tuple[str, str], uid: Callable[[str], str]) -> None:
    user, cube = owner_with_cube
    missing = uid("missing")
    document = cli.json("--user", user, "search", "anything", "--cube", missing, expect=ExitCode.NOT_FOUND)
    assert set(document) == {"error"} and set(document["error"]) == {"code", "message", "exit_code"}
    assert missing in document["error"]["message"] and document["error"]["exit_code"] == 4

    blank = cli.run("--user", user, "add", "--cube", cube, "--text", "   ")
    assert blank.returncode == ExitCode.INVALID_INPUT
    assert blank.stdout == "" and "memos-graph: " in blank.stderr and "empty" in blank.stderr
    assert "Traceback" not in blank.stderr

    stranger = cli.json("--user", uid("nobody"), "search", "anything", expect=ExitCode.ACCESS_DENIED)
    assert stranger["error"]["code"] == "UNAUTHENTICATED"


LOCAL_SERVER_VARIABLES = ("MEMOS_GRAPH_CACHE", "NEO4J_BOLT_PORT", "NEO4J_HTTP_PORT")


def test_neo4j_status(cli: Cli) -> None:
    # The suite's local server: scripts/neo4j.sh finds it by cache directory and Bolt port.
    where = {name: os.environ[name] for name in LOCAL_SERVER_VARIABLES if name in os.environ}
    status = cli.json("neo4j", "status", env=where)
    assert status["action"] == "status" and status["output"].startswith("running")
    # The store's size on disk and the page cache that would hold it (scripts/neo4j.sh sizing).
    sizing = status["output"].splitlines()[1]
    store_mb = int(re.match(r"store (\d+) MB", sizing)[1])  # type: ignore[index]
    suggested_gb = int(re.search(r"NEO4J_PAGECACHE=(\d+)g", sizing)[1])  # type: ignore[index]
    assert store_mb > 0 and suggested_gb * 1024 >= store_mb * 1.2


def test_schema_apply(cli: Cli) -> None:
    applied = cli.json("schema", "apply")
    assert applied["applied"] is True and applied["embedding_dim"] == 896


def test_serve_answers_healthz(cli: Cli, tmp_path: Path) -> None:
    port = free_port()
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen(
        [*cli_command(), "serve", "--port", str(port)], env=cli.env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 180
        answer = None
        while time.monotonic() < deadline and server.poll() is None:
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
                break
            except httpx.TransportError:
                time.sleep(0.5)
        assert answer is not None, (tmp_path / "serve.log").read_text()[-3000:]
        assert answer.status_code == 200 and answer.json() == {"status": "ok", "neo4j": "up"}
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def test_dump_then_import_round_trip(
    cli: Cli, root: MOS, owner_with_cube: tuple[str, str], uid: Callable[[str], str], tmp_path: Path
) -> None:
    user, cube = owner_with_cube
    texts = ["Alice plays the cello", "Alice lives in Lyon", "Bob runs marathons"]
    root.add(memory_content=texts, mem_cube_id=cube, user_id=user)
    target = tmp_path / "dump"
    dumped = cli.json("--user", user, "cube", "dump", cube, str(target))
    assert (dumped["cube_id"], dumped["memories"], dumped["edges"]) == (cube, 3, 0)
    assert (target / "config.json").is_file()
    assert (target / "textual_memory.json").is_file()

    copy = uid("copy")
    imported = cli.json("--user", user, "cube", "import", str(target), "--cube-id", copy)
    assert (imported["cube_id"], imported["memories"], imported["new_ids"]) == (copy, 3, True)
    (group,) = root.get_all(copy, user_id=user)["text_mem"]
    assert sorted(item.memory for item in group["memories"]) == sorted(texts)

    again = cli.json("--user", user, "cube", "dump", cube, str(target), expect=ExitCode.CONFLICT)
    assert again["error"]["code"] == "CONFLICT"


def test_a_cube_id_with_slashes_through_the_cli(cli: Cli, root: MOS, uid: Callable[[str], str], tmp_path: Path) -> None:
    user = root.create_user(uid("hubber"))
    cube = f"{uid('team')}/mem_cube_2"
    created = cli.json("--user", user, "cube", "create", "notes", "--id", cube)
    assert created["cube"]["cube_id"] == cube
    root.add(memory_content=["Slashes survive the command line"], mem_cube_id=cube, user_id=user)
    dumped = cli.json("--user", user, "cube", "dump", cube, str(tmp_path / "d"))
    assert dumped["cube_id"] == cube and dumped["memories"] == 1
    imported = cli.json("--user", user, "cube", "import", str(tmp_path / "d"), "--cube-id", f"{cube}/copy")
    assert imported["cube_id"] == f"{cube}/copy" and imported["memories"] == 1
    assert cli.json("--user", user, "cube", "delete", cube)["deleted"] is True


def test_a_chinese_memory_prints_as_chinese(cli: Cli, root: MOS, owner_with_cube: tuple[str, str]) -> None:
    # JSON printed for people keeps the characters: an escaped "\\u6211" is unreadable in a terminal.
    user, cube = owner_with_cube
    root.add(memory_content=["我对花生过敏。"], mem_cube_id=cube, user_id=user)
    for mode in (["--json"], []):
        done = cli.run(*mode, "--user", user, "search", "我对什么过敏？", "--cube", cube, "--top-k", "1")
        assert done.returncode == 0, done.stderr[-3000:]
        assert "我对花生过敏。" in done.stdout and "\\u" not in done.stdout, done.stdout
