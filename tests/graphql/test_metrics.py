"""/metrics on the GraphQL app: a search, an add and a chat move their counters and histograms (deltas: every app of
the test process records into the one registry), and only the scrape token or a ROOT/ADMIN key reads them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace

import pytest
from pydantic import SecretStr
from starlette.testclient import TestClient

from graphql_schema.app import create_app
from memos_graph.config import LLMSettings, MetricsSettings
from memos_graph.services.runtime import Runtime
from testkit.fake_llm import FakeOpenAI
from testkit.metrics import dashboard_expressions, declared_names, referenced_names, value
from tests.graphql.conftest import ROOT_KEY, caller_of, codes, ok

pytestmark = pytest.mark.neo4j

MODEL = "openai/metrics-model"
SCRAPE_TOKEN = "scrape-token-for-the-metrics-test"
NewUser = Callable[..., tuple[str, str]]


@pytest.fixture(scope="module")
def client(keyed_runtime: Runtime, llm_server: FakeOpenAI) -> Iterator[TestClient]:
    """The app with a chat model on the fake server and a scrape token."""
    llm = LLMSettings(model=MODEL, api_base=llm_server.url, api_key="sk-test", num_retries=0)
    # The longest key cache there is (60 s), so that a busy machine's slow requests still find their key in it.
    limits = keyed_runtime.config.limits.model_copy(update={"api_key_cache_s": 60.0})
    metrics = MetricsSettings(scrape_token=SecretStr(SCRAPE_TOKEN))
    config = keyed_runtime.config.model_copy(update={"llm": llm, "metrics": metrics, "limits": limits})
    with TestClient(create_app(runtime=replace(keyed_runtime, config=config))) as test_client:
        yield test_client


def scrape(client: TestClient, key: str = ROOT_KEY) -> str:
    response = client.get("/metrics", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


def test_search_add_and_chat_move_their_metrics(client: TestClient, new_user: NewUser, llm_server: FakeOpenAI) -> None:
    llm_server.reset("Alice plays the cello.", usage_tokens=40)
    gql = caller_of(client)
    alice, key = new_user("alice")
    cube = ok(gql('mutation { createCube(input: {name: "notes"}) { cubeId } }', key))["createCube"]["cubeId"]
    before = scrape(client)

    added = gql(
        'mutation($c: ID!) { addMemories(input: {cubeId: $c, content: ["Alice plays the cello"]}) { ids } }',
        key,
        c=cube,
    )
    assert len(ok(added)["addMemories"]["ids"]) == 1
    found = ok(gql('query { search(query: "Which instrument?", topK: 1) { textMem { cubeId } } }', key))
    assert found["search"]["textMem"][0]["cubeId"] == cube
    answer = ok(gql('mutation { chat(query: "What do I play?") }', key))
    assert answer["chat"] == "Alice plays the cello."
    # A refused field is counted with its code: a cube that is not the caller's.
    refused = gql('query { search(query: "x", cubeIds: ["no-such-cube-here"]) { textMem { cubeId } } }', key)
    (code,) = codes(refused)
    after = scrape(client)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    graphql = {"door": "graphql", "code": "OK"}
    assert delta("memos_requests_total", operation="mutation.addMemories", **graphql) == 1
    assert delta("memos_requests_total", operation="query.search", **graphql) == 1
    assert delta("memos_requests_total", operation="mutation.chat", **graphql) == 1
    assert delta("memos_requests_total", door="graphql", operation="query.search", code=code) == 1
    assert code != "OK"
    assert delta("memos_operation_seconds_count", operation="add") == 1
    # chat retrieves with a search of its own
    assert delta("memos_operation_seconds_count", operation="search") >= 2
    assert delta("memos_operation_seconds_count", operation="chat") == 1
    assert delta("memos_operation_seconds_sum", operation="chat") > 0
    for stage in ("embedding", "neo4j", "ranking"):
        assert delta("memos_search_stage_seconds_count", stage=stage) >= 2, stage
    # The fake server reports 40 tokens: 39 of prompt, 1 of completion.
    assert delta("memos_llm_calls_total", model=MODEL, user=alice, code="OK") == 1
    assert delta("memos_llm_tokens_total", model=MODEL, user=alice, kind="prompt") == 39
    assert delta("memos_llm_tokens_total", model=MODEL, user=alice, kind="completion") == 1
    assert delta("memos_llm_call_seconds_count", model=MODEL) == 1
    assert delta("memos_worker_wait_seconds_count") >= 4  # each field ran on the worker pool
    # Four requests with one key within limits.api_key_cache_s, its first lookup before: the cache answered them.
    assert delta("memos_api_key_cache_lookups_total", result="hit") >= 4
    assert value(after, "memos_workers_busy") >= 0 and value(after, "memos_worker_queue_depth") >= 0
    assert value(after, "memos_neo4j_sessions_in_use") >= 0
    # Labels stay bounded: no memory text or query text in the exposition.
    assert "Alice plays the cello" not in after and "Which instrument" not in after


def test_the_dashboard_reads_only_metrics_the_service_exposes(client: TestClient) -> None:
    expressions = dashboard_expressions()
    names = referenced_names(expressions)
    assert len(expressions) >= 10 and {"memos_requests_total", "memos_llm_tokens_total"} <= names
    missing = names - declared_names(scrape(client))
    assert not missing, f"the dashboard reads metrics /metrics does not expose: {sorted(missing)}"


def test_metrics_need_the_scrape_token_or_a_root_or_admin_key(client: TestClient, new_user: NewUser) -> None:
    _, user_key = new_user("mallory")
    _, admin_key = new_user("ada", "ADMIN")
    nothing = client.get("/metrics")
    assert nothing.status_code == 401 and nothing.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    wrong = client.get("/metrics", headers={"Authorization": "Bearer not-the-token-nor-a-key"})
    assert wrong.status_code == 401
    as_user = client.get("/metrics", headers={"Authorization": f"Bearer {user_key}"})
    assert as_user.status_code == 403 and as_user.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    for refused in (nothing, wrong, as_user):
        assert "memos_" not in refused.text and "process_" not in refused.text
    assert "memos_requests_total" in scrape(client, SCRAPE_TOKEN)
    assert "memos_requests_total" in scrape(client, admin_key)
    assert "memos_requests_total" in scrape(client, ROOT_KEY)
