#!/usr/bin/env bash
# The main job: install, start Neo4j (unless NEO4J_URI names one), apply the schema and run the MOS demo.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$("$repo/scripts/setup.sh" | tail -n 1)"
export PATH="$venv/bin:$PATH" HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 LITELLM_LOCAL_MODEL_COST_MAP=True
if [ -z "${NEO4J_URI:-}" ]; then
  "$repo/scripts/neo4j.sh" start
  eval "$("$repo/scripts/neo4j.sh" env)"
fi
cd "$repo"
exec python -m memos_graph.demo "$@"
