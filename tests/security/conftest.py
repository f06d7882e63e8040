"""The security suite's session fixture: the real ASGI app over the session's runtime (see testkit/security.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from graphql_schema.app import create_app
from memos_graph.services.runtime import Runtime
from testkit.fake_llm import FakeOpenAI
from testkit.keys import ROOT_KEY
from testkit.security import Api, Roots, SecurityEnv, configured, purge_user


@pytest.fixture(scope="session")
def security_env(
    keyed_runtime: Runtime, llm_server: FakeOpenAI, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SecurityEnv]:
    """The app over the session's runtime with roots, chat and the root key; users purged at the end."""
    roots = Roots.under(tmp_path_factory.mktemp("security"))
    secured = configured(keyed_runtime, roots, llm_server.url, ROOT_KEY)
    with TestClient(create_app(runtime=secured), raise_server_exceptions=False) as client:
        env = SecurityEnv(secured, roots, llm_server, Api(client))
        try:
            yield env
        finally:
            for user_id in env.created:
                purge_user(secured, user_id)
