"""Input validation, content identity, config loading and schema file parsing."""

from __future__ import annotations

import itertools
import json
import os
from pathlib import Path

import pytest

from memos_graph import ConfigurationError, InvalidInput, MOSConfig
from memos_graph.config import LimitSettings
from memos_graph.graph.queries import CYPHER_DIR, command, declared_choices, query, split_statements
from memos_graph.services import validation

LIMITS = LimitSettings(max_memory_chars=50, max_items_per_add=3)


def test_texts_are_trimmed_and_checked_as_a_whole() -> None:
    assert validation.check_texts("  hello ", LIMITS) == ["hello"]
    assert validation.check_texts(["a", " b"], LIMITS) == ["a", "b"]
    with pytest.raises(InvalidInput, match=r"memory_content\[1\]"):
        validation.check_texts(["a", " "], LIMITS)
    with pytest.raises(InvalidInput, match="limit is 50"):
        validation.check_texts("x" * 51, LIMITS)
    with pytest.raises(InvalidInput, match="limit is 3"):
        validation.check_texts(["a", "b", "c", "d"], LIMITS)


def test_content_hash_folds_whitespace_but_keeps_case() -> None:
    assert validation.content_hash("I like  football") == validation.content_hash("I like\nfootball")
    assert validation.content_hash("caf\u00e9") == validation.content_hash("cafe\u0301")
    assert validation.content_hash("Football") != validation.content_hash("football")


def test_ids() -> None:
    assert validation.check_id("user-1.a@b:c_d", "user_id", LIMITS) == "user-1.a@b:c_d"
    for bad in ("", "-lead", "a b", "a/b", "x" * 129, None, 7, "c1\n", "c1\r\n", "\nc1", "c1\n\n"):
        with pytest.raises(InvalidInput):
            validation.check_id(bad, "user_id", LimitSettings())
    upper = "3F2504E0-4F89-11D3-9A0C-0305E82C3301"
    assert validation.check_memory_id(upper) == upper.lower()
    with pytest.raises(InvalidInput):
        validation.check_memory_id("memory_123")


def test_top_k() -> None:
    assert validation.check_top_k(None, 5, LimitSettings(max_top_k=3)) == 3
    assert validation.check_top_k(2, 5, LimitSettings()) == 2
    for bad in (0, 101, True, 2.5):
        with pytest.raises(InvalidInput):
            validation.check_top_k(bad, 5, LimitSettings())


def test_config_file_then_environment(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text(
        json.dumps(
            {
                "user_id": "alice",
                "top_k": 7,
                "neo4j": {"uri": "bolt://file:7687", "password": "from-file"},
                "mem_reader": {"backend": "simple_struct"},
            }
        )
    )
    config = MOSConfig.load(path, environ={"NEO4J_URI": "bolt://env:7687", "MEMOS_TOP_K": "9"})
    assert config.user_id == "alice"
    assert config.top_k == 9
    assert config.neo4j.uri == "bolt://env:7687"
    assert config.neo4j.password.get_secret_value() == "from-file"
    assert "from-file" not in repr(config)


def test_bad_config_is_a_configuration_error(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text('{"top_k": 0}')
    with pytest.raises(ConfigurationError):
        MOSConfig.load(path, environ={})
    path.write_text("[1, 2]")
    with pytest.raises(ConfigurationError):
        MOSConfig.load(path, environ={})
    with pytest.raises(ConfigurationError):
        MOSConfig.load(tmp_path / "missing.json", environ={})
    path.write_text('{"neo4j": {"url": "typo"}}')
    with pytest.raises(ConfigurationError):
        MOSConfig.load(path, environ={})


def test_area_settings_from_the_environment_and_shared_roots_apart_from_areas(tmp_path: Path) -> None:
    environ = {
        "MEMOS_DOCUMENT_ROOTS": str(tmp_path / "areas"),
        "MEMOS_SHARED_DOCUMENT_ROOTS": f"{tmp_path / 'handbook'}{os.pathsep}{tmp_path / 'policies'}",
        "MEMOS_TRANSFER_MAX_USER_BYTES": "5000000",
    }
    config = MOSConfig.load(None, environ=environ)
    assert config.documents.shared_roots == (str(tmp_path / "handbook"), str(tmp_path / "policies"))
    assert config.transfer.max_user_bytes == 5_000_000
    assert MOSConfig.load(None, environ={}).transfer.max_user_bytes == 1_000_000_000
    # A shared root holding the per-user root would let every user read every area; one inside it is an area.
    for shared in (tmp_path, tmp_path / "areas", tmp_path / "areas" / "shared"):
        with pytest.raises(ConfigurationError, match="overlaps"):
            MOSConfig.load(None, environ={**environ, "MEMOS_SHARED_DOCUMENT_ROOTS": str(shared)})


def test_split_statements() -> None:
    text = "// comment\nCREATE A;\n\nCREATE B\n  OPTIONS {x: 1};\n// tail\n"
    assert split_statements(text) == ["CREATE A", "CREATE B\n  OPTIONS {x: 1}"]


def test_every_schema_and_query_file_parses_to_parameterised_statements() -> None:
    for path in sorted((CYPHER_DIR / "schema").glob("*.cypher")):
        assert split_statements(path.read_text()), path
    for path in sorted((CYPHER_DIR / "queries").glob("*.cypher")):
        declared = declared_choices(path.stem)
        for picked in itertools.product(*declared.values()):  # every combination of its choices renders
            text = query(path.stem, tuple(zip(declared, picked, strict=True)))
            assert "$" in text or "// Takes no parameters:" in text, f"{path.name} takes no parameters"
            assert "{{" not in text and "__m__" not in text, f"{path.name}: a placeholder is left: {text}"
    with pytest.raises(ValueError, match="needs the choices"):
        query("memory_page")
    with pytest.raises(ValueError, match="offers no direction"):
        query("memory_page", (("order_key", "created_at"), ("direction", "SIDEWAYS"), ("after", ">")))


def test_schema_commands_take_only_declared_identifiers() -> None:
    assert command("drop_index", index="memory_text") == "DROP INDEX memory_text IF EXISTS"
    created = command("cube_vector_index_create", index="cube_vector_ab12", label="CubeMem_ab12")
    assert "CREATE VECTOR INDEX cube_vector_ab12 IF NOT EXISTS FOR (m:CubeMem_ab12)" in created
    assert "$config" in created and "{{" not in created
    for bad in ("memory_text IF EXISTS; MATCH (n) DETACH DELETE n //", "a-b", "`x`", "1abc", "", "a" * 200):
        with pytest.raises(ValueError, match="must be an identifier"):
            command("drop_index", index=bad)
    with pytest.raises(ValueError, match="takes the identifiers"):
        command("drop_index", index="x", label="y")
    with pytest.raises(ValueError, match="takes the identifiers"):
        command("cube_vector_index_create", index="x")
    for path in sorted((CYPHER_DIR / "commands").glob("*.cypher")):
        assert "// identifier " in path.read_text(), f"{path.name} declares no identifier: make it a query"


def test_message_context_for_embedding() -> None:
    from memos_graph.services.memory_parts import with_context

    before: list[dict[str, str | None]] = [
        {"role": "user", "name": "Caroline", "content": "I went to the support group."},
        {"role": "assistant", "name": None, "content": "How was it?"},
    ]
    assert with_context("Caroline: Great!", []) == "Caroline: Great!"
    assert with_context("Caroline: Great!", before) == (
        "Caroline: Great! (after: Caroline: I went to the support group. assistant: How was it?)"
    )
