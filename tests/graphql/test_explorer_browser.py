"""The memory explorer (/explorer) in headless Chromium, against a cube seeded through the GraphQL API.

The cube holds memories added from content, memories from a conversation (so Message nodes and a NEXT chain
exist), one memory updated twice (a version chain) and a share with a second user. The test types the key,
picks the cube, counts what the page drew (window.explorer.cy, the Cytoscape instance), clicks memories on
the canvas with real mouse events, searches, and saves a screenshot (to MEMOS_SCREENSHOT_DIR when set:
`MEMOS_SCREENSHOT_DIR=docs` rewrites docs/explorer.png, which docs/graphql.md shows).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from tests.browser import Browser, Page
from tests.graphql.conftest import Gql, ok

pytestmark = pytest.mark.neo4j

CONTENT = [
    "Alice plays the cello in a string quartet on Thursdays",
    "Alice lives in Lyon, near the Croix-Rousse market",
    "Alice's favourite dish is a bowl of tonkotsu ramen",
    # User content with markup: the page must show it as text, never run it.
    'Alice wrote <img src="x" onerror="window.__injected = true"> in her notes',
]
UPDATES = ["Alice moved from Lyon to Grenoble in 2024", "Alice moved to Grenoble in 2024 and works at a lab there"]
CONVERSATION = [
    {"role": "user", "name": "Alice", "content": "I finally bought a new bow for my cello!"},
    {"role": "assistant", "name": "Coach", "content": "Nice! Which maker did you pick?"},
    {"role": "user", "name": "Alice", "content": "A pernambuco bow from a workshop in Mirecourt."},
]


@dataclass(frozen=True)
class SeededCube:
    cube_id: str
    owner_key: str
    reader_id: str
    reader_key: str
    content_ids: list[str]
    message_ids: list[str]


@pytest.fixture
def seeded(gql: Gql, new_user: Callable[..., tuple[str, str]]) -> SeededCube:
    _, key = new_user("explorer-owner")
    reader_id, reader_key = new_user("explorer-reader")
    cube_id = ok(gql('mutation { createCube(input: {name: "Alice\'s notebook"}) { cubeId } }', key))["createCube"][
        "cubeId"
    ]
    add = "mutation($input: AddMemoriesInput!) { addMemories(input: $input) { ids } }"
    content_ids = ok(gql(add, key, input={"cubeId": cube_id, "content": CONTENT}))["addMemories"]["ids"]
    message_ids = ok(gql(add, key, input={"cubeId": cube_id, "messages": CONVERSATION, "sessionId": "lesson-1"}))[
        "addMemories"
    ]["ids"]
    update = "mutation($input: UpdateMemoryInput!) { updateMemory(input: $input) { memoryId } }"
    for text in UPDATES:
        ok(gql(update, key, input={"cubeId": cube_id, "id": content_ids[1], "memory": text}))
    ok(
        gql(
            "mutation($c: ID!, $u: ID!) { shareCube(cubeId: $c, userId: $u, permission: READ) }",
            key,
            c=cube_id,
            u=reader_id,
        )
    )
    return SeededCube(cube_id, key, reader_id, reader_key, content_ids, message_ids)


def drawn(page: Page, selector: str) -> int:
    count: int = page.evaluate(f"window.explorer.cy.elements({json.dumps(selector)}).length")
    return count


def click_memory(page: Page, memory_id: str) -> None:
    """Click a memory's node on the canvas (real mouse events at its position on screen)."""
    x, y = page.evaluate(f"""(() => {{
        const node = window.explorer.cy.nodes('[kind = "memory"]')
            .filter((n) => n.data("record").memoryId === {json.dumps(memory_id)});
        const box = document.getElementById("graph").getBoundingClientRect();
        const at = node.renderedPosition();
        return [box.left + at.x, box.top + at.y];
    }})()""")
    for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
        page.call("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)
    page.wait_for(
        f"window.explorer.selected && window.explorer.cy.getElementById(window.explorer.selected)"
        f".data('record').memoryId === {json.dumps(memory_id)}"
    )


def connect(page: Page, key: str) -> None:
    """Type the key into the page and press Connect."""
    page.evaluate(
        f"document.getElementById('api-key').value = {json.dumps(key)};document.getElementById('connect').click()"
    )


def pick_cube(page: Page, cube_id: str) -> None:
    """Choose the cube in the page's list and wait for the drawing."""
    page.evaluate(f"""(() => {{
        const select = document.getElementById("cube");
        const option = [...select.options].find((o) => o.textContent.includes({json.dumps(cube_id)}));
        select.value = option.value;
        select.dispatchEvent(new Event("change"));
    }})()""")
    page.wait_for("window.explorer.status === 'drawn'")


def set_merge(page: Page, merge: bool) -> None:
    """Tick or untick "merge messages with their memories" and wait for the drawing that follows."""
    if page.evaluate("document.getElementById('merge').checked") == merge:
        return
    before = page.evaluate("window.explorer.draws")
    page.evaluate("document.getElementById('merge').click()")
    page.wait_for(f"window.explorer.draws > {before}")
    assert page.evaluate("window.explorer.merge") is merge


def test_the_explorer_page_is_locked_down(client: TestClient) -> None:
    page = client.get("/explorer")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "connect-src 'self'" in policy and "default-src 'none'" in policy
    assert "frame-ancestors 'none'" in policy and "unsafe-inline" not in policy
    assert page.headers["x-frame-options"] == "DENY"
    assert "<script>" not in page.text  # scripts only by src, from this origin
    assert client.get("/explorer/static/explorer.js").status_code == 200
    assert client.get("/explorer/static/index.html").status_code == 404  # the page only with its policy
    assert client.get("/explorer/vendor/cytoscape.min.js").status_code == 200  # installed by scripts/setup.sh


def test_the_explorer_draws_a_seeded_cube(server: str, browser: Browser, seeded: SeededCube, tmp_path: Path) -> None:
    page = browser.open(f"{server}/explorer")
    page.wait_for("window.explorer && window.explorer.cy !== null")
    connect(page, seeded.owner_key)
    page.wait_for("window.explorer.status === 'connected'")
    # The key is in this tab's sessionStorage only: not in localStorage, cookies or the page.
    assert page.evaluate("sessionStorage.getItem('memos-graph-explorer-api-key')") == seeded.owner_key
    assert page.evaluate("localStorage.length") == 0 and page.evaluate("document.cookie") == ""
    assert seeded.owner_key not in page.evaluate("document.documentElement.outerHTML")

    pick_cube(page, seeded.cube_id)
    assert page.evaluate("window.explorer.cube.cubeId") == seeded.cube_id
    # Every node of the graph model, messages apart from their memories (merged by default: see below).
    set_merge(page, False)

    # What was seeded, kind by kind.
    assert drawn(page, 'node[kind = "cube"]') == 1
    assert drawn(page, 'node[kind = "memory"]') == len(CONTENT) + len(CONVERSATION)
    assert drawn(page, 'node[kind = "message"]') == len(CONVERSATION)
    assert drawn(page, 'node[kind = "version"]') == len(UPDATES)
    assert drawn(page, 'node[kind = "document"]') == 0
    assert drawn(page, 'node[kind = "user"]') == 2  # the owner and the reader
    assert drawn(page, 'edge[type = "HAS_MEMORY"]') == len(CONTENT) + len(CONVERSATION)
    # Each conversation memory derives from its message; the updated memory from its newest version, which
    # derives from the one before.
    assert drawn(page, 'edge[type = "DERIVED_FROM"]') == len(CONVERSATION) + len(UPDATES)
    assert drawn(page, 'edge[type = "OWNS"]') == 1
    shares = page.evaluate(
        "window.explorer.cy.edges('[type = \"SHARED_WITH\"]').map((e) => [e.target().data('record')"
        ".userId, e.data('label')])"
    )
    assert shares == [[seeded.reader_id, "SHARED_WITH READ"]]
    memory_ids = page.evaluate("window.explorer.cy.nodes('[kind = \"memory\"]').map((n) => n.data('record').memoryId)")
    assert sorted(memory_ids) == sorted(seeded.content_ids + seeded.message_ids)
    # The NEXT chain follows the conversation.
    chain = page.evaluate(
        "window.explorer.cy.edges('[type = \"NEXT\"]').map((e) => [e.source().data('record')"
        ".content, e.target().data('record').content])"
    )
    expected = [[a["content"], b["content"]] for a, b in zip(CONVERSATION, CONVERSATION[1:], strict=False)]
    assert sorted(chain) == sorted(expected)
    # The version chain runs from the memory through the newest version to the oldest.
    versions = page.evaluate(f"""(() => {{
        const memory = window.explorer.cy.nodes('[kind = "memory"]')
            .filter((n) => n.data("record").memoryId === {json.dumps(seeded.content_ids[1])});
        const newest = memory.outgoers('node[kind = "version"]');
        const oldest = newest.outgoers('node[kind = "version"]');
        return [newest.map((n) => n.data("record").memory), oldest.map((n) => n.data("record").memory)];
    }})()""")
    assert versions == [[UPDATES[0]], [CONTENT[1]]]

    set_merge(page, True)  # as the page starts (and the screenshot shows it)
    # A click on the updated memory shows its text, metadata and history.
    click_memory(page, seeded.content_ids[1])
    detail = page.evaluate("document.getElementById('selection').innerText")
    assert UPDATES[1] in detail and UPDATES[0] in detail and CONTENT[1] in detail
    assert "history (2 earlier" in detail and seeded.content_ids[1] in detail
    # A conversation memory shows the message it came from.
    click_memory(page, seeded.message_ids[2])
    detail = page.evaluate("document.getElementById('selection').innerText")
    assert "derived from" in detail and CONVERSATION[2]["content"] in detail and "lesson-1" in detail
    # Markup in a memory is shown as text, and nothing in it ran.
    click_memory(page, seeded.content_ids[3])
    assert CONTENT[3] in page.evaluate("document.getElementById('selection').innerText")
    assert page.evaluate("document.querySelector('#selection img')") is None
    assert page.evaluate("window.__injected === undefined")

    # A search highlights its hits, best first; the rest fades.
    page.evaluate(
        "document.getElementById('search').value = 'Which string quartet does Alice play in on Thursdays?';"
        "document.querySelector('#search-form button[type=submit]').click()"
    )
    page.wait_for("window.explorer.hits.length > 0")
    hits = page.evaluate("window.explorer.hits.map((id) => window.explorer.memories.get(id).memoryId)")
    assert hits[0] == seeded.content_ids[0], hits
    highlighted = page.evaluate("window.explorer.cy.nodes('.hit').map((n) => n.data('record').memoryId)")
    assert sorted(highlighted) == sorted(hits) and len(hits) < len(memory_ids)
    assert drawn(page, 'node[kind = "memory"].faded') == len(memory_ids) - len(hits)
    assert CONTENT[0] in page.evaluate("document.getElementById('hits').innerText")
    click_memory(page, seeded.content_ids[1])  # for the screenshot: the updated memory and its history

    assert page.errors == [], page.errors  # no script error, no Content-Security-Policy violation
    shot = Path(os.environ.get("MEMOS_SCREENSHOT_DIR") or tmp_path) / "explorer.png"
    page.screenshot(shot)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000

    # Forgetting the key clears it and the drawing.
    page.evaluate("document.getElementById('forget').click()")
    assert page.evaluate("sessionStorage.length") == 0 and drawn(page, "*") == 0


def test_a_reader_sees_the_shared_cube_and_a_bad_key_is_refused(
    server: str, browser: Browser, seeded: SeededCube, new_user: Callable[..., tuple[str, str]]
) -> None:
    page = browser.open(f"{server}/explorer")
    page.wait_for("window.explorer && window.explorer.cy !== null")
    connect(page, "not-a-key")
    page.wait_for("window.explorer.status === 'error'")
    assert "UNAUTHENTICATED" in page.evaluate("document.getElementById('status').innerText")
    assert page.evaluate("sessionStorage.length") == 0  # a refused key is not kept
    # Someone the cube is not shared with does not get it in the list.
    _, stranger_key = new_user("explorer-stranger")
    connect(page, stranger_key)
    page.wait_for("window.explorer.status === 'connected'")
    options = page.evaluate("[...document.getElementById('cube').options].map((o) => o.textContent)")
    assert not any(seeded.cube_id in option for option in options), options
    # The reader it is shared with does, and sees the same graph.
    page.evaluate("document.getElementById('forget').click()")
    connect(page, seeded.reader_key)
    page.wait_for("window.explorer.status === 'connected'")
    pick_cube(page, seeded.cube_id)
    assert drawn(page, 'node[kind = "memory"]') == len(CONTENT) + len(CONVERSATION)
    assert drawn(page, 'edge[type = "NEXT"]') == len(CONVERSATION) - 1
    # The same through pages of 3 memories (the connection's cursors): nothing lost, nothing twice.
    page.navigate(f"{server}/explorer?pageSize=3")  # the key is still in this tab's sessionStorage
    page.wait_for("window.explorer.status === 'connected'")
    pick_cube(page, seeded.cube_id)
    assert page.evaluate("window.explorer.pages") == 3
    memories = len(CONTENT) + len(CONVERSATION)
    assert f": {memories} memories." in page.evaluate("document.getElementById('status').innerText")  # as loaded
    assert drawn(page, 'node[kind = "memory"]') == len(CONTENT) + len(CONVERSATION)
    assert page.evaluate("window.explorer.cube.canWrite") is False


def label(page: Page, selector: str) -> list[str]:
    """The labels Cytoscape draws for the nodes a selector picks (its resolved style, "" when hidden)."""
    labels: list[str] = page.evaluate(
        f"window.explorer.cy.nodes({json.dumps(selector)}).map((n) => n.pstyle('label').strValue)"
    )
    return labels


def hover_memory(page: Page, memory_id: str) -> None:
    """Move the pointer over a memory's node on the canvas."""
    x, y = page.evaluate(f"""(() => {{
        const node = window.explorer.cy.nodes('[kind = "memory"]')
            .filter((n) => n.data("record").memoryId === {json.dumps(memory_id)});
        const box = document.getElementById("graph").getBoundingClientRect();
        const at = node.renderedPosition();
        return [box.left + at.x, box.top + at.y];
    }})()""")
    page.call("Input.dispatchMouseEvent", type="mouseMoved", x=x, y=y)


# Whether every node lies within the visible part of the drawing.
ALL_IN_VIEW = """(() => {
    const cy = window.explorer.cy, view = cy.extent(), box = cy.elements().boundingBox();
    return box.x1 >= view.x1 - 1 && box.x2 <= view.x2 + 1 && box.y1 >= view.y1 - 1 && box.y2 <= view.y2 + 1;
})()"""


def test_the_explorer_is_readable(server: str, browser: Browser, seeded: SeededCube) -> None:
    """Issue 25, item 8: merged messages, labels by zoom, tooltips, local times, fit/zoom, and search."""
    page = browser.open(f"{server}/explorer")
    page.wait_for("window.explorer && window.explorer.cy !== null")
    connect(page, seeded.owner_key)
    page.wait_for("window.explorer.status === 'connected'")
    pick_cube(page, seeded.cube_id)

    # Merged (the default): one node per message, the memory taken from it, chained by NEXT in order.
    assert page.evaluate("document.getElementById('merge').checked") is True
    assert drawn(page, 'node[kind = "message"]') == 0
    merged = page.evaluate(
        "window.explorer.cy.nodes('[?message]').map((n) => [n.data('record').memoryId, n.data('message').content])"
    )
    assert sorted(merged) == sorted([i, m["content"]] for i, m in zip(seeded.message_ids, CONVERSATION, strict=True))
    for message in CONVERSATION:
        drawing = page.evaluate(
            "window.explorer.cy.nodes().filter((n) => (n.data('message') || n.data('record')).content === "
            f"{json.dumps(message['content'])}).length"
        )
        assert drawing == 1, message
    chain = page.evaluate(
        "window.explorer.cy.edges('[type = \"NEXT\"]').map((e) => [e.source().data('record').memoryId,"
        " e.target().data('record').memoryId])"
    )
    assert sorted(chain) == sorted([a, b] for a, b in zip(seeded.message_ids, seeded.message_ids[1:], strict=False))
    assert drawn(page, 'edge[type = "DERIVED_FROM"]') == len(UPDATES)  # the versions' only
    # A conversation memory is labelled with what was said; who said it is in its tooltip.
    labels = page.evaluate(
        "Object.fromEntries(window.explorer.cy.nodes('[?message]').map((n) => [n.data('record').memoryId,"
        " [n.data('label'), n.data('tooltip')]]))"
    )
    for memory_id, message in zip(seeded.message_ids, CONVERSATION, strict=True):
        text, tooltip = labels[memory_id]
        assert message["content"].startswith(text.rstrip("…")) and not text.startswith(("[", message["name"]))
        assert tooltip.startswith(message["name"]) and message["content"] in tooltip
    # Unmerged: the messages are their own nodes again, labelled by their text too.
    set_merge(page, False)
    assert drawn(page, 'node[kind = "message"]') == len(CONVERSATION) and drawn(page, "node[?message]") == 0
    message_labels = page.evaluate("window.explorer.cy.nodes('[kind = \"message\"]').map((n) => n.data('label'))")
    clipped = [m["content"] if len(m["content"]) <= 32 else m["content"][:31] + "…" for m in CONVERSATION]
    assert sorted(message_labels) == sorted(clipped), message_labels
    set_merge(page, True)

    # Zoomed out, only cube and user labels are drawn (and the hovered node's); zoomed in, all of them.
    cube_name = page.evaluate("window.explorer.cube.name")
    page.evaluate("window.explorer.cy.zoom(0.3), 1")
    assert set(label(page, 'node[kind = "memory"]')) == {""}
    assert label(page, 'node[kind = "cube"]') == [cube_name] and all(label(page, 'node[kind = "user"]'))
    page.evaluate("window.explorer.cy.center(), 1")
    hover_memory(page, seeded.content_ids[0])
    page.wait_for("window.explorer.cy.nodes('.hover').length === 1")
    assert label(page, "node.hover") == [CONTENT[0][:35] + "…"]
    assert CONTENT[0] in page.evaluate("document.getElementById('graph').title")
    page.evaluate("window.explorer.cy.zoom(1.5), 1")
    uncrowded = "window.explorer.cy.nodes('[kind = \"memory\"]').filter((n) => !n.hasClass('crowded'))"
    assert page.evaluate(f"{uncrowded}.length") > 0
    assert page.evaluate(f"{uncrowded}.every((n) => n.pstyle('label').strValue !== '')")

    # Fit shows everything; the zoom buttons zoom by steps; a resize fits again (after a fit).
    page.evaluate("document.getElementById('fit').click()")
    assert page.evaluate(ALL_IN_VIEW) and page.evaluate("window.explorer.fitted")
    fitted = page.evaluate("window.explorer.cy.zoom()")
    page.evaluate("document.getElementById('zoom-in').click(); document.getElementById('zoom-in').click()")
    assert page.evaluate("window.explorer.cy.zoom()") == pytest.approx(fitted * 1.25 * 1.25)
    page.evaluate("document.getElementById('zoom-out').click()")
    assert page.evaluate("window.explorer.cy.zoom()") == pytest.approx(fitted * 1.25)
    page.evaluate("document.getElementById('fit').click()")
    assert page.evaluate("window.explorer.cy.zoom()") == pytest.approx(fitted) and page.evaluate(ALL_IN_VIEW)
    width = page.evaluate("window.explorer.cy.width()")
    page.call("Emulation.setDeviceMetricsOverride", width=800, height=600, deviceScaleFactor=1, mobile=False)
    try:
        page.wait_for(f"window.explorer.cy.width() < {width} && window.explorer.cy.zoom() < {fitted}")
        page.wait_for(ALL_IN_VIEW)
    finally:
        page.call("Emulation.clearDeviceMetricsOverride")

    # Times read in the browser's locale and timezone, never as raw ISO.
    page.wait_for(f"window.explorer.cy.width() >= {width}")
    page.evaluate("document.getElementById('fit').click()")
    click_memory(page, seeded.content_ids[1])
    times = page.evaluate(
        "[...document.querySelectorAll('#selection time')].map((t) => [t.dateTime, t.textContent,"
        " new Date(t.dateTime).toLocaleString(undefined, {dateStyle: 'medium', timeStyle: 'short'})])"
    )
    assert times and all(shown == local and "T" not in shown for _, shown, local in times), times
    assert all(iso[:4].isdigit() and "T" in iso for iso, _, _ in times)
    detail = page.evaluate("document.getElementById('selection').innerText")
    assert not re.search(r"\d{4}-\d{2}-\d{2}T\d{2}:", detail), detail

    # A search clears the previous selection and says what its scores mean.
    page.evaluate(
        "document.getElementById('search').value = 'Which string quartet does Alice play in on Thursdays?';"
        "document.querySelector('#search-form button[type=submit]').click()"
    )
    page.wait_for("window.explorer.hits.length > 0")
    assert page.evaluate("window.explorer.selected") is None
    assert page.evaluate("window.explorer.cy.nodes(':selected').length") == 0
    assert page.evaluate("document.getElementById('selection').innerText") == "Click a node to see its detail."
    assert "relativity" in page.evaluate("document.getElementById('score-legend').innerText")
    hit_texts = page.evaluate("[...document.querySelectorAll('#hits li button')].map((b) => b.textContent)")
    assert not any(text.startswith(("[", "Alice:", "Coach:")) for text in hit_texts), hit_texts
    assert page.errors == [], page.errors


# Pairs of drawn memory labels (a label Cytoscape draws: a non-empty resolved label) that overlap.
LABEL_OVERLAPS = """(() => {
    const boxes = window.explorer.cy.nodes('[kind = "memory"]').filter((n) => n.pstyle('label').strValue)
        .map((n) => n.boundingBox({includeNodes: false, includeEdges: false, includeLabels: true}));
    let pairs = 0;
    for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
        const a = boxes[i], b = boxes[j];
        if (a.x1 < b.x2 && b.x1 < a.x2 && a.y1 < b.y2 && b.y1 < a.y2) pairs += 1;
    }
    return pairs;
})()"""


def test_thirty_memories_draw_no_label_over_another(
    server: str, browser: Browser, gql: Gql, new_user: Callable[..., tuple[str, str]]
) -> None:
    """At 30 memories a fitted drawing has no room for every label: those that would overlap one drawn
    before them are left out (whatever the zoom), and show when hovered."""
    _, key = new_user("explorer-thirty")
    cube_id = ok(gql('mutation { createCube(input: {name: "Thirty notes"}) { cubeId } }', key))["createCube"]["cubeId"]
    add = "mutation($input: AddMemoriesInput!) { addMemories(input: $input) { ids } }"
    texts = [f"Note {i}: a memory with a label long enough to be cut short" for i in range(30)]
    ids = ok(gql(add, key, input={"cubeId": cube_id, "content": texts}))["addMemories"]["ids"]
    page = browser.open(f"{server}/explorer")
    page.wait_for("window.explorer && window.explorer.cy !== null")
    connect(page, key)
    page.wait_for("window.explorer.status === 'connected'")
    pick_cube(page, cube_id)
    assert drawn(page, 'node[kind = "memory"]') == 30
    assert page.evaluate(LABEL_OVERLAPS) == 0
    assert drawn(page, "node.crowded") > 0  # some were left out...
    assert label(page, 'node[kind = "cube"]') == ["Thirty notes"]  # ...never the cube's or the users'
    assert all(label(page, 'node[kind = "user"]'))
    # A crowded-out memory shows its label under the pointer.
    crowded = page.evaluate("window.explorer.cy.nodes('.crowded[kind = \"memory\"]')[0].data('record').memoryId")
    assert crowded in ids
    hover_memory(page, crowded)
    page.wait_for("window.explorer.cy.nodes('.hover').length === 1")
    shown = label(page, "node.hover")
    assert len(shown) == 1 and shown[0].startswith("Note ") and shown[0].endswith("…")
    assert page.errors == [], page.errors


CHINESE = [
    "我喜欢踢足球，最喜欢的球队是巴塞罗那。",
    "我在上海的一家公司做软件工程师。",
    "我对花生过敏。",
    "周末我常去爬山。",
]


def test_the_explorer_shows_chinese_memories(
    server: str, browser: Browser, gql: Gql, new_user: Callable[..., tuple[str, str]], tmp_path: Path
) -> None:
    """Chinese memories are drawn, shown on a click, labelled in Chinese, and a Chinese search finds its memory
    first (issue 23); the screenshot (explorer-zh.png in MEMOS_SCREENSHOT_DIR when set) shows the glyphs where
    a CJK font is installed (scripts/test.sh installs fonts-wqy-zenhei with Chromium under CI)."""
    _, key = new_user("explorer-zh")
    cube_id = ok(gql('mutation { createCube(input: {name: "小明的记忆"}) { cubeId } }', key))["createCube"]["cubeId"]
    add = "mutation($input: AddMemoriesInput!) { addMemories(input: $input) { ids } }"
    ids = ok(gql(add, key, input={"cubeId": cube_id, "content": CHINESE}))["addMemories"]["ids"]
    page = browser.open(f"{server}/explorer")
    page.wait_for("window.explorer && window.explorer.cy !== null")
    connect(page, key)
    page.wait_for("window.explorer.status === 'connected'")
    assert "小明的记忆" in page.evaluate("document.getElementById('cube').innerText")
    pick_cube(page, cube_id)
    assert drawn(page, 'node[kind = "memory"]') == len(CHINESE)
    labels = page.evaluate("window.explorer.cy.nodes('[kind = \"memory\"]').map((n) => n.data('label'))")
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in label) for label in labels), labels
    click_memory(page, ids[2])
    assert CHINESE[2] in page.evaluate("document.getElementById('selection').innerText")
    page.evaluate(
        "document.getElementById('search').value = '我在哪里工作？';"
        "document.querySelector('#search-form button[type=submit]').click()"
    )
    page.wait_for("window.explorer.hits.length > 0")
    hits = page.evaluate("window.explorer.hits.map((id) => window.explorer.memories.get(id).memoryId)")
    assert hits[0] == ids[1], hits
    assert CHINESE[1] in page.evaluate("document.getElementById('hits').innerText")
    assert page.errors == [], page.errors
    shot = Path(os.environ.get("MEMOS_SCREENSHOT_DIR") or tmp_path) / "explorer-zh.png"
    page.screenshot(shot)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
