#!/usr/bin/env bash
# Run a benchmark with the project's environment: bash bench/run.sh core [args for bench.bench_core]
set -euo pipefail
name="${1:-core}"; shift || true
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/env.sh"
exec python -m "bench.bench_$name" "$@"
