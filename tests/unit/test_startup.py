"""Importing memos_graph has no side effects on the process: no environment variable set, no model library
imported (litellm's import would fetch a price list unless LITELLM_LOCAL_MODEL_COST_MAP is set first)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

CHECK = """
import os, sys
before = dict(os.environ)
import memos_graph
from memos_graph.llm.loader import import_litellm
assert dict(os.environ) == before, set(os.environ) ^ set(before)
assert "litellm" not in sys.modules
import_litellm()
assert os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] == "True"
"""


@pytest.mark.slow
def test_import_sets_no_environment_variable_and_litellm_imports_offline() -> None:
    env = {name: value for name, value in os.environ.items() if name != "LITELLM_LOCAL_MODEL_COST_MAP"}
    result = subprocess.run([sys.executable, "-c", CHECK], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
