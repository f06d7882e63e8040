#!/usr/bin/env bash
# The test command: install, start the tests' own Neo4j (unless NEO4J_URI names one), then ruff, mypy --strict,
# the documentation site (mkdocs build --strict) and pytest.
# Extra arguments go to pytest.
set -euo pipefail
# The tests get a Neo4j of their own (port 7697, its own cache directory), never the one run.sh serves from;
# the suite marks an empty database as its own and refuses any other that holds data (testkit/fixtures.py).
if [ -z "${NEO4J_URI:-}" ]; then
  export NEO4J_BOLT_PORT="${MEMOS_TEST_BOLT_PORT:-7697}" NEO4J_HTTP_PORT="${MEMOS_TEST_HTTP_PORT:-7484}"
fi
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
# The GraphiQL browser test needs Chromium; under CI it must run, so install Debian's package if missing.
if ! command -v chromium >/dev/null && command -v apt-get >/dev/null && [ "${CI:-}" = "true" ]; then
  echo "== installing chromium (apt-get)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
# The explorer's Chinese screenshot needs a CJK font (without one Chromium draws empty boxes).
if [ "${CI:-}" = "true" ] && command -v apt-get >/dev/null && command -v fc-list >/dev/null \
  && [ -z "$(fc-list :lang=zh 2>/dev/null)" ]; then
  echo "== installing a CJK font (fonts-wqy-zenhei, apt-get)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-zenhei >/dev/null
fi
# Third-party JavaScript clients the client tests drive (tests/graphql/test_apollo_client.py): installed once
# into the cache from npm, pinned; the marker names the set, so a change here installs again.
client_assets="${MEMOS_GRAPH_CACHE:-$HOME/.cache/memos-graph}/client-assets"
client_packages="@apollo/client@4.3.8 graphql@16.11.0 rxjs@7.8.2"
if [ "$(cat "$client_assets/.complete" 2>/dev/null)" != "$client_packages" ] && command -v npm >/dev/null; then
  echo "== installing the test clients ($client_packages, npm)"
  mkdir -p "$client_assets"
  # shellcheck disable=SC2086
  npm install --prefix "$client_assets" --no-audit --no-fund --silent --save-exact $client_packages >/dev/null
  echo "$client_packages" > "$client_assets/.complete"
fi
export MEMOS_CLIENT_ASSETS="$client_assets"
# One command per line: under `set -e` a failure on the left of `&&` does not stop the script.
echo "== ruff"
ruff check .
ruff format --check .
echo "== mypy --strict"; mypy
# The documentation site (mkdocs.yml, docs/): --strict fails on a broken link, anchor or nav entry. Built into a
# temporary directory, never into the repository.
echo "== mkdocs build --strict"
docs_site="$(mktemp -d)"
trap 'rm -rf "$docs_site"' EXIT
# (not --quiet: it hides the warnings, and --strict then passes a broken link)
NO_MKDOCS_2_WARNING=1 mkdocs build --strict --site-dir "$docs_site"
# --run-slow: the tests marked slow too (a bare `pytest` skips them; see CONTRIBUTING.md).
echo "== pytest"; pytest --run-slow "$@"
