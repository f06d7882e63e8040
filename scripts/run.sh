#!/usr/bin/env bash
# The main job: install, start Neo4j (unless NEO4J_URI names one), then serve the GraphQL API with uvicorn.
#   bash scripts/run.sh            serve on http://127.0.0.1:${MEMOS_PORT:-8000}/graphql (GraphiQL on GET)
#   bash scripts/run.sh demo       run the short MOS demo in-process instead
# The root user's API key comes from MEMOS_ROOT_API_KEY, or from a key file made on first run.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
if [ "${1:-}" = "demo" ]; then
  shift
  exec python -m memos_graph.demo "$@"
fi
key_file="${MEMOS_GRAPH_CACHE:-$HOME/.cache/memos-graph}/root-api-key"
if [ -n "${MEMOS_ROOT_API_KEY:-}" ]; then
  key_source="the MEMOS_ROOT_API_KEY environment variable"
else
  if [ ! -s "$key_file" ]; then
    (umask 077 && python -c 'import secrets; print("mgk_" + secrets.token_urlsafe(32))' > "$key_file")
  fi
  MEMOS_ROOT_API_KEY="$(cat "$key_file")"
  export MEMOS_ROOT_API_KEY
  key_source="the file $key_file"
fi
port="${MEMOS_PORT:-8000}"
echo "memos-graph GraphQL API: http://127.0.0.1:$port/graphql (open it in a browser for GraphiQL)"
echo "root API key: read from $key_source; send it as 'Authorization: Bearer <key>'"
exec python -m graphql_schema --host 127.0.0.1 --port "$port" "$@"
