"""GraphiQL's page as this server serves it: Strawberry's page, changed where a first-time user stumbled.

- The Headers tab opens (not Variables) holding `{"Authorization": "Bearer <your API key>"}`, and the query
  editor a document saying where the key goes, instead of an UNAUTHENTICATED error as the first screen.
- Until the headers hold a key, nothing is sent (the answer says where the key goes); once the key in them
  changes and stays put for a moment, GraphiQL gets a new fetcher and so fetches the schema again: Docs and
  autocompletion work without the re-fetch button. The pause keeps a key being typed from sending one
  request per keystroke (each a failed key, spending the client's budget of them).
- What GraphiQL stores (tabs, and a history holding each query's headers, the key) goes to the tab's
  sessionStorage, never localStorage, as the explorer keeps its key; headers are not persisted at all.
- A Content-Security-Policy that runs the page's own inline script by its hash only.

Each change finds its anchor in Strawberry's page exactly once, or the server refuses to start: a Strawberry
upgrade that moves them must be looked at, not silently served unchanged.
"""

from __future__ import annotations

import base64
import hashlib
import re

UNPKG_ORIGIN = "https://unpkg.com"
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)
_EXAMPLE_QUERY = re.compile(r"const EXAMPLE_QUERY = `.*?`;", re.DOTALL)

KEY_PLACEHOLDER = "<your API key>"

DEFAULT_DOCUMENT = """# memos-graph's GraphQL API
#
# Every operation needs an API key. In the Headers
# tab below, put yours in place of <your API key>:
#   {"Authorization": "Bearer <your API key>"}
# The schema then loads by itself (Docs, completion),
# and this query runs with the play button (Ctrl-Enter).
#
# A user's key: the apiKey createUser answered. The
# root key: MEMOS_ROOT_API_KEY, or the server's file
# ~/.cache/memos-graph/root-api-key.
# GraphiQL keeps tabs and history in this browser tab
# (sessionStorage), never in localStorage.
#
# Subscriptions (chatStream) run over WebSocket: name
# them, as in subscription Ask { chatStream(...) }.

query Me {
  me {
    user { userId name role }
    accessibleCubes { cubeId name }
  }
}
"""

# Defined before Strawberry's component, which uses them (its own `fetcher` is in scope: this wraps it).
KEY_SCRIPT = """      const KEY_PLACEHOLDER = %(placeholder)s;
      const HEADERS_TEMPLATE = JSON.stringify({ Authorization: "Bearer " + KEY_PLACEHOLDER }, null, 2);
      const KEY_SETTLE_MS = 600;
      const NO_KEY_ANSWER = {
        errors: [{
          message: 'nothing sent: no API key yet. Put {"Authorization": "Bearer <your API key>"} in the'
            + " Headers tab, with your key; the schema (Docs) loads by itself once it is there.",
          extensions: { code: "UNAUTHENTICATED" },
        }],
      };

      // The Authorization value of a headers object (header names are case-insensitive), or "".
      function authorizationIn(headers) {
        if (!headers || typeof headers !== "object") return "";
        const name = Object.keys(headers).find((n) => n.toLowerCase() === "authorization");
        return name && typeof headers[name] === "string" ? headers[name].trim() : "";
      }

      // The Authorization value in the Headers editor's text; null while the text is no JSON (being edited).
      function authorizationOf(text) {
        if (!text || !text.trim()) return "";
        try {
          return authorizationIn(JSON.parse(text));
        } catch {
          return null;
        }
      }

      function holdsKey(authorization) {
        const key = authorization.replace(/^Bearer\\s+/i, "").trim();
        return key !== "" && !key.includes(KEY_PLACEHOLDER);
      }

      // A new function each time the key changes: GraphiQL fetches the schema again whenever its fetcher
      // changes, with the headers then in the editor.
      function keyedFetcher() {
        return (params, options) =>
          holdsKey(authorizationIn(options && options.headers))
            ? fetcher(params, options)
            : Promise.resolve(NO_KEY_ANSWER);
      }

      function GraphiQLWithExplorer() {"""

KEY_STATE = """const [headers, setHeaders] = React.useState(
          parameters.headers || HEADERS_TEMPLATE,
        );
        const [authorization, setAuthorization] = React.useState(
          () => authorizationOf(parameters.headers || HEADERS_TEMPLATE) || "",
        );
        React.useEffect(() => {
          const typed = authorizationOf(headers);
          if (typed === null || typed === authorization) return undefined;
          const settled = setTimeout(() => setAuthorization(typed), KEY_SETTLE_MS);
          return () => clearTimeout(settled);
        }, [headers, authorization]);
        const keyed = React.useMemo(keyedFetcher, [authorization]);"""

# (Strawberry's text, what replaces it): each must occur exactly once in Strawberry's page.
PATCHES = (
    ("      function GraphiQLWithExplorer() {", KEY_SCRIPT % {"placeholder": f'"{KEY_PLACEHOLDER}"'}),
    ("const [headers, setHeaders] = React.useState(parameters.headers);", KEY_STATE),
    ("fetcher: fetcher,", "fetcher: keyed,"),
    # The Headers tab open at first, showing the template (Variables would be).
    ("defaultEditorToolsVisibility: true,", 'defaultEditorToolsVisibility: "headers",'),
    # GraphiQL keeps its tabs, with the headers typed into them, in localStorage, which outlives the tab; its
    # query history keeps the headers of every query run whatever shouldPersistHeaders says.
    ("shouldPersistHeaders: true,", "shouldPersistHeaders: false,\n          storage: window.sessionStorage,"),
)


def _template_literal(text: str) -> str:
    """`text` as a JavaScript template literal."""
    return "`" + text.replace("\\", "\\\\").replace("`", "\\`").replace("${", "\\${") + "`"


def customised(html: str) -> str:
    """Strawberry's GraphiQL page with this server's changes (the module's docstring)."""
    for old, new in PATCHES:
        if html.count(old) != 1:
            raise RuntimeError(f"Strawberry's GraphiQL page no longer holds {old!r} once: check graphiql.py")
        html = html.replace(old, new)
    if len(_EXAMPLE_QUERY.findall(html)) != 1:
        raise RuntimeError("Strawberry's GraphiQL page no longer sets EXAMPLE_QUERY once: check graphiql.py")
    literal = f"const EXAMPLE_QUERY = {_template_literal(DEFAULT_DOCUMENT)};"
    return _EXAMPLE_QUERY.sub(lambda _: literal, html)


def graphiql_page(html: str, from_unpkg: bool) -> tuple[str, dict[str, str]]:
    """Strawberry's GraphiQL page, customised, and the headers to serve it with: a Content-Security-Policy
    that runs the page's own inline script by its hash and scripts from this origin (or unpkg, where the
    assets are not installed) only, and talks to this origin only."""
    html = customised(html)
    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()}'"
        for script in _INLINE_SCRIPT.findall(html)
    )
    assets = f"'self' {UNPKG_ORIGIN}" if from_unpkg else "'self'"
    policy = (
        f"default-src 'none'; script-src {assets} {hashes}; style-src {assets} 'unsafe-inline'; "
        f"font-src {assets} data:; img-src 'self' data:; connect-src 'self'; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'none'"
    )
    return html, {
        "Content-Security-Policy": policy,
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store",
    }
