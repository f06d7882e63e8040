#!/usr/bin/env bash
# Install everything memos-graph needs into a cache outside git, idempotently:
# a Python 3.11 virtualenv pinned by requirements.lock (keyed by its hash), this checkout installed into it
# (editable, no deps), the embedding model's ONNX export and the Neo4j Community jars. Prints the
# virtualenv's path on its last line.
#
# Settings: MEMOS_GRAPH_CACHE (default ~/.cache/memos-graph); MEMOS_ONNX_DIR (default $MEMOS_GRAPH_CACHE/onnx);
# MEMOS_EMBEDDER_MODEL (the model to export, default all-MiniLM-L6-v2); MEMOS_TORCH_WHEEL, a path to a CPU torch
# wheel to install instead of PyPI's (large, CUDA-enabled) build; MEMOS_EXPLORER_ASSETS (default
# $MEMOS_GRAPH_CACHE/explorer-assets), where the explorer's graph library goes.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${MEMOS_GRAPH_CACHE:-$HOME/.cache/memos-graph}"
mkdir -p "$cache"

log() { echo "[setup] $*" >&2; }

python_bin=""
for candidate in python3.11 python3; do
  if command -v "$candidate" >/dev/null && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
    python_bin="$(command -v "$candidate")"
    break
  fi
done
[ -n "$python_bin" ] || { log "Python 3.11 is required"; exit 1; }

if ! command -v java >/dev/null || ! command -v mvn >/dev/null; then
  if command -v apt-get >/dev/null; then
    log "installing Java 17 and Maven from Debian"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless maven >/dev/null
  else
    log "Java 17 and Maven are required"; exit 1
  fi
fi

key="$(cat "$repo/requirements.lock" "${MEMOS_TORCH_WHEEL:-/dev/null}" | sha256sum | cut -c1-12)"
venv="$cache/venv-$key"
# Two set-ups at once (two shells after requirements.lock changed) would build the same venv over each other.
exec 9>"$cache/.setup.lock"
command -v flock >/dev/null && flock 9
if [ ! -f "$venv/.complete" ]; then
  log "creating $venv (first run downloads about 3 GB of wheels: torch with its CUDA libraries, transformers, litellm)"
  rm -rf "$venv"
  "$python_bin" -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check --upgrade "pip==25.3"
  if [ -n "${MEMOS_TORCH_WHEEL:-}" ]; then
    "$venv/bin/pip" install -q --disable-pip-version-check --no-deps "$MEMOS_TORCH_WHEEL"
  fi
  "$venv/bin/pip" install -q --disable-pip-version-check -r "$repo/requirements.lock"
  touch "$venv/.complete"
fi
"$venv/bin/pip" install -q --disable-pip-version-check --no-deps --no-build-isolation -e "$repo" >/dev/null
# The query embedder's ONNX file (memos_graph/embeddings/export_onnx.py): exported once per model weights
# into $MEMOS_ONNX_DIR (default $cache/onnx), checked against torch; a no-op when it exists.
MEMOS_GRAPH_CACHE="$cache" HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 "$venv/bin/python" -m memos_graph.embeddings.export_onnx >/dev/null
exec 9>&-

"$repo/scripts/neo4j.sh" install >&2

# GraphiQL's page loads React and GraphiQL from unpkg; install the same packages so the server can serve
# them itself (no internet here). The versions are those strawberry-graphql's GraphiQL page names.
assets="$cache/graphiql-assets"
if [ ! -f "$assets/.complete" ]; then
  if command -v npm >/dev/null; then
    log "installing GraphiQL's browser assets into $assets"
    mkdir -p "$assets"
    npm install --prefix "$assets" --no-audit --no-fund --silent \
      graphiql@3.8.3 react@18.2.0 react-dom@18.2.0 @graphiql/plugin-explorer@1.0.2 js-cookie@3.0.5 >&2
    touch "$assets/.complete"
  else
    log "npm not found: GraphiQL will load its scripts from unpkg"
  fi
fi

# The memory explorer (/explorer) draws a cube's graph with Cytoscape.js: installed once, like GraphiQL's
# assets, and served by the app from $MEMOS_EXPLORER_ASSETS (no CDN). One pinned package without dependencies;
# the marker names it, so a change of version here installs again.
explorer_assets="${MEMOS_EXPLORER_ASSETS:-$cache/explorer-assets}"
explorer_package="cytoscape@3.35.0"
if [ "$(cat "$explorer_assets/.complete" 2>/dev/null)" != "$explorer_package" ]; then
  if command -v npm >/dev/null; then
    log "installing the explorer's graph library ($explorer_package) into $explorer_assets"
    mkdir -p "$explorer_assets"
    npm install --prefix "$explorer_assets" --no-audit --no-fund --silent --save-exact "$explorer_package" >&2
    echo "$explorer_package" > "$explorer_assets/.complete"
  else
    log "npm not found: the explorer at /explorer cannot draw graphs"
  fi
fi
echo "$venv"
