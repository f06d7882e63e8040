"""What the tests and the benchmarks share, so neither imports the other.

- servers.py: free ports, the service started as a uvicorn child process, process memory;
- fake_llm.py: the OpenAI-compatible server the tests and benchmarks start on 127.0.0.1 (the only test
  double: it stands in for paid LLM and embedding APIs, behind the real litellm call);
- faults.py: Neo4j instances to stop and freeze, callers that keep adding, the audit of what landed;
- security.py: callers, the GraphQL client, the fuzz strategies and the oracle that judges a response, the
  many-aliased search a hostile tenant sends;
- keys.py: the session's own ROOT key; conversations.py: a chat for fine ingestion;
- fixtures.py: the pytest fixtures of tests/ and bench/tests/ (a plugin, loaded by pyproject's addopts).
"""
