#!/usr/bin/env bash
# Run a benchmark with the project's environment: bash bench/run.sh core [args for bench.bench_core]
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
name="${1:-core}"; shift || true
venv="$("$repo/scripts/setup.sh" | tail -n 1)"
export PATH="$venv/bin:$PATH" HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 LITELLM_LOCAL_MODEL_COST_MAP=True
if [ -z "${NEO4J_URI:-}" ]; then
  "$repo/scripts/neo4j.sh" start
  eval "$("$repo/scripts/neo4j.sh" env)"
fi
cd "$repo"
exec python -m "bench.bench_$name" "$@"
