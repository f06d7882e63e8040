"""The way in (issue 27): the README stays short and its links resolve; its Python quick start and its Chinese
example, pasted into an interactive Python, run on a fresh graph (a Neo4j of this module's own, empty) and print
what their comments say; its GraphQL session (the curl mutations, then the GraphiQL query) runs against the app;
the docs' copies of those blocks are the README's; every GraphQL document in the README and docs/ validates."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from graphql import parse, validate
from starlette.testclient import TestClient

from graphql_schema.app import create_app
from graphql_schema.schema import schema
from memos_graph.services.runtime import Runtime
from testkit.faults import Neo4jInstance
from testkit.fixtures import process_environment
from testkit.keys import ROOT_KEY
from testkit.servers import free_port

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
DOCS = REPO / "docs"


def marked(text: str, name: str) -> str:
    """The fenced block between <!-- quickstart:NAME --> and <!-- /quickstart:NAME -->, without its fences."""
    found = re.search(rf"<!-- quickstart:{name} -->\n```\w+\n(.*?)```\n<!-- /quickstart:{name} -->", text, re.S)
    assert found, f"README.md has no quickstart:{name} block"
    return found.group(1)


def fenced(text: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.S)


def test_the_readme_is_short_and_its_links_resolve() -> None:
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 300
    # the two commands, first thing after the picture and the contents
    assert "bash scripts/run.sh      # install" in text and "bash scripts/test.sh     # install" in text
    assert text.index("## The two commands") < text.index("## Python quick start")
    links = re.findall(r"\]\(([^)\s]+)\)", text)
    relative = [link for link in links if not link.startswith(("http://", "https://", "#"))]
    assert relative, "the README links into docs/"
    for link in relative:
        assert (REPO / link.split("#")[0]).exists(), link
    nav = (REPO / "mkdocs.yml").read_text(encoding="utf-8")
    pages = sorted(path.name for path in DOCS.glob("*.md"))
    for page in pages:
        assert f": {page}" in nav, f"docs/{page} is not in mkdocs.yml's nav"
    for link in relative:
        if link.startswith("docs/") and link.endswith(".md"):
            assert Path(link).name in pages


def test_the_docs_copies_of_the_readme_examples_are_the_readme_s() -> None:
    text = README.read_text(encoding="utf-8")
    python_page = (DOCS / "python.md").read_text(encoding="utf-8")
    assert fenced(python_page, "python")[0] == marked(text, "python")
    languages = (DOCS / "languages.md").read_text(encoding="utf-8")
    assert marked(text, "zh") in fenced(languages, "python")


def test_every_graphql_document_in_the_readme_and_the_docs_validates() -> None:
    documents = [README, *sorted(DOCS.glob("*.md"))]
    checked = 0
    for path in documents:
        for text in fenced(path.read_text(encoding="utf-8"), "graphql"):
            errors = validate(schema._schema, parse(text))
            assert errors == [], (path.name, text, errors)
            checked += 1
    assert checked >= 7


def printed_by_comments(block: str) -> list[str]:
    """What a block says it prints: the comment after each print(...) call (up to " (" when it explains)."""
    lines = []
    for line in block.splitlines():
        if "print(" in line and "  # " in line:
            lines.append(line.split("  # ", 1)[1].split(" (", 1)[0])
    return lines


def paste_into_python(block: str, settings_env: dict[str, str], cwd: Path) -> str:
    """Run a block as pasted into an interactive interpreter (`python -i`: a compound statement ends at a blank
    line, as at the prompt); returns what it printed; fails on any traceback."""
    run = subprocess.run(
        [sys.executable, "-i", "-q"],
        input=block + "\n",
        env={**settings_env, "PYTHONPATH": str(REPO)},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert run.returncode == 0 and "Traceback" not in run.stderr and "Error" not in run.stderr, run.stderr
    return run.stdout


@pytest.fixture(scope="module")
def own_neo4j() -> Iterator[Neo4jInstance]:
    """A Neo4j of this module's own on free ports, empty at the start (a fresh graph: no user, no schema), wiped
    afterwards."""
    instance = Neo4jInstance(bolt_port=free_port(), http_port=free_port())
    instance._script("wipe")
    instance.start()
    try:
        yield instance
    finally:
        instance.stop()
        instance._script("wipe")


@pytest.fixture(scope="module")
def fresh_env(own_neo4j: Neo4jInstance) -> dict[str, str]:
    """The environment a newcomer's shell has after `source scripts/env.sh`, pointed at the fresh graph."""
    settings = own_neo4j.settings()
    from neo4j import GraphDatabase

    with GraphDatabase.driver(settings.uri, auth=(settings.user, settings.password.get_secret_value())) as driver:
        assert driver.execute_query("MATCH (n) RETURN count(n) AS n").records[0]["n"] == 0
        assert driver.execute_query("SHOW CONSTRAINTS YIELD name RETURN count(*) AS n").records[0]["n"] == 0
    return process_environment(settings)


def test_the_python_quick_start_pasted_on_a_fresh_graph_prints_what_it_says(
    fresh_env: dict[str, str], tmp_path: Path
) -> None:
    block = marked(README.read_text(encoding="utf-8"), "python")
    assert "apply_schema=True" in block
    expected = printed_by_comments(block)
    assert expected == ["Alice likes football", "Alice likes football", "Alice likes basketball now"]
    printed = paste_into_python(block, fresh_env, tmp_path).splitlines()
    # the interpreter also echoes what the other calls return ('alice', True, 'read', ...)
    assert [line for line in printed if line in expected] == expected, printed


def test_the_chinese_example_pasted_on_a_fresh_graph_prints_what_it_says(
    fresh_env: dict[str, str], tmp_path: Path
) -> None:
    block = marked(README.read_text(encoding="utf-8"), "zh")
    expected = [line.removeprefix("# ") for line in block.splitlines() if " → " in line and line.startswith("# ")]
    assert len(expected) == 2
    printed = paste_into_python(block, fresh_env, tmp_path).splitlines()
    assert [line for line in printed if line in expected] == expected, printed


def test_the_readme_graphql_session_runs(keyed_runtime: Runtime, uid: Callable[[str], str]) -> None:
    text = README.read_text(encoding="utf-8")
    session = marked(text, "curl")
    payloads = [json.loads(body) for body in re.findall(r"-d '(\{.*?\})'", session)]
    assert [list(p) for p in payloads] == [["query"]] * 3
    alice = uid("alice")
    create_user, create_cube, add = (p["query"].replace('"alice"', json.dumps(alice)) for p in payloads)
    assert alice in create_user
    with TestClient(create_app(runtime=keyed_runtime)) as client:

        def post(query: str, key: str) -> dict[str, object]:
            response = client.post("/graphql", json={"query": query}, headers={"Authorization": f"Bearer {key}"})
            assert response.status_code == 200, response.text
            body = response.json()
            assert body.get("errors") is None, body
            data: dict[str, object] = body["data"]
            return data

        created = post(create_user, ROOT_KEY)["createUser"]
        assert isinstance(created, dict)
        key = created["apiKey"]
        post(create_cube, key)
        post(add, key)
        found = post(marked(text, "graphql"), key)["search"]
    assert isinstance(found, dict)
    (group,) = found["textMem"]
    best = group["memories"][0]
    assert best["memory"] == "Alice plays the cello" and best["cube"]["owner"]["name"] == "Alice"
    assert 0 < best["metadata"]["relativity"] <= 1 and best["metadata"]["sources"] == []


def test_the_documentation_site_builds_strict(tmp_path: Path) -> None:
    """What scripts/test.sh runs before pytest, here too so that `pytest tests/examples` alone holds the site."""
    mkdocs = Path(sys.executable).parent / "mkdocs"
    run = subprocess.run(
        [str(mkdocs), "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=REPO,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "site" / "index.html").is_file() and (tmp_path / "site" / "graphql" / "index.html").is_file()
