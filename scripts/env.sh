# Sourced by run.sh, test.sh and bench/run.sh: install (idempotent), put the virtualenv on PATH, set the
# offline switches, and start the local Neo4j unless NEO4J_URI names a server already.
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$("$repo/scripts/setup.sh" | tail -n 1)"
export PATH="$venv/bin:$PATH" HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 LITELLM_LOCAL_MODEL_COST_MAP=True
# The virtualenv is shared by every checkout with the same lock, and its editable install points at whichever
# checkout ran setup.sh last: this checkout's code comes first for this shell and every process it starts.
export PYTHONPATH="$repo${PYTHONPATH:+:$PYTHONPATH}"
export MEMOS_GRAPHIQL_ASSETS="${MEMOS_GRAPHIQL_ASSETS:-${MEMOS_GRAPH_CACHE:-$HOME/.cache/memos-graph}/graphiql-assets}"
export MEMOS_EXPLORER_ASSETS="${MEMOS_EXPLORER_ASSETS:-${MEMOS_GRAPH_CACHE:-$HOME/.cache/memos-graph}/explorer-assets}"
if [ -z "${NEO4J_URI:-}" ]; then
  "$repo/scripts/neo4j.sh" start
  eval "$("$repo/scripts/neo4j.sh" env)"
fi
cd "$repo"
