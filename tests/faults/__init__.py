"""Fault tests: Neo4j outages, slow and broken LLM servers (their tools are in testkit/faults.py)."""
