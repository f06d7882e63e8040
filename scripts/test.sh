#!/usr/bin/env bash
# The test command: install, start Neo4j (unless NEO4J_URI names one), then ruff, mypy --strict and pytest.
# Extra arguments go to pytest.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
# The GraphiQL browser test needs Chromium; under CI it must run, so install Debian's package if missing.
if ! command -v chromium >/dev/null && command -v apt-get >/dev/null && [ "${CI:-}" = "true" ]; then
  echo "== installing chromium (apt-get)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
echo "== ruff"; ruff check .
echo "== mypy --strict"; mypy
echo "== pytest"; pytest "$@"
