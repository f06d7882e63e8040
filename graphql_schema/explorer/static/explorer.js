// The memory explorer: draws a cube's graph from this server's public GraphQL API (POST /graphql with the
// caller's API key). The key stays in this tab's sessionStorage and goes only to /graphql on this origin,
// as the Authorization header. Everything shown comes from users: it is put on the page as text
// (textContent) or drawn on Cytoscape's canvas, never parsed as HTML.
"use strict";

(() => {
  const KEY_STORAGE = "memos-graph-explorer-api-key";
  // Memories per request: the API's largest page, unless the address asks for smaller ones (?pageSize=).
  const PAGE_SIZE = Math.min(100, Math.max(1, Number(new URLSearchParams(location.search).get("pageSize")) || 100));
  const MAX_MEMORIES = 2000; // beyond this the drawing is neither fast nor readable
  const SEARCH_TOP_K = 5;
  // Versions drawn per memory (its newest); the detail says when a memory has more.
  const HISTORY_PAGE = 20;
  const FORCE_LAYOUT_MAX_NODES = 400;

  const ME_QUERY = `query ExplorerMe {
    me { user { id userId name role } accessibleCubes { id cubeId name ownerId } }
  }`;

  // One page of a cube's memories with everything drawn around them. Depth: cube > memories > edges >
  // node > derivedFrom > node > next > id stays within the API's depth limit.
  const CUBE_QUERY = `query ExplorerCube($cube: ID!, $first: Int!, $after: String, $historyFirst: Int!) {
    cube(id: $cube) {
      id cubeId name ownerId createdAt canWrite
      owner { id userId name role }
      sharedWith { permission since node { id userId name role } }
      memories(first: $first, after: $after, orderBy: {field: CREATED_AT, direction: ASC}) {
        totalCount
        pageInfo { hasNextPage endCursor }
        edges {
          node {
            id memoryId memory
            metadata { memoryType type source sessionId status tags key userId updatedBy createdAt updatedAt }
            history(first: $historyFirst) {
              pageInfo { hasNextPage }
              edges { node { id version memory updatedBy createdAt updatedAt } }
            }
            derivedFrom {
              kind
              node {
                __typename
                ... on Message {
                  id key role name content chatTime sessionId createdAt next { id } previous { id }
                }
                ... on Document { id key name path checksum createdAt updatedAt }
                ... on MemoryVersion { id version }
              }
            }
          }
        }
      }
    }
  }`;

  const SEARCH_QUERY = `query ExplorerSearch($query: String!, $cube: ID!, $topK: Int!) {
    search(query: $query, cubeIds: [$cube], topK: $topK) {
      textMem { cubeId memories { id memoryId memory metadata { relativity } } }
    }
  }`;

  const COLORS = {
    cube: "#263238", user: "#7e57c2", memory: "#1e88e5", message: "#43a047",
    document: "#fb8c00", version: "#90a4ae", hit: "#fdd835",
  };
  // Rings of the concentric layout, from the centre out.
  const RING = { cube: 5, user: 4, memory: 3, version: 2, document: 1, message: 1 };

  const element = (id) => document.getElementById(id);
  const explorer = {
    cy: null,
    status: "idle", // idle | connecting | connected | loading | drawn | error
    user: null,
    cubes: [],
    cube: null,
    memories: new Map(), // memory id -> the memory as the API returned it
    totalMemories: 0,
    pages: 0, // requests the last cube took
    truncated: false,
    hits: [], // memory ids of the last search, best first
    selected: null,
  };
  window.explorer = explorer;

  class ApiError extends Error {
    constructor(message, code) {
      super(message);
      this.code = code;
    }
  }

  async function graphql(query, variables = {}) {
    const key = sessionStorage.getItem(KEY_STORAGE);
    if (!key) throw new ApiError("no API key", "UNAUTHENTICATED");
    const response = await fetch("/graphql", {
      method: "POST",
      credentials: "omit",
      cache: "no-store",
      headers: {
        "Authorization": `Bearer ${key}`,
        "Content-Type": "application/json",
        "Accept": "application/graphql-response+json, application/json;q=0.9",
      },
      body: JSON.stringify({ query, variables }),
    });
    let body;
    try {
      body = await response.json();
    } catch {
      throw new ApiError(`the server answered HTTP ${response.status}`, "HTTP_" + response.status);
    }
    if (body.errors && body.errors.length) {
      const first = body.errors[0];
      throw new ApiError(first.message, (first.extensions && first.extensions.code) || "ERROR");
    }
    return body.data;
  }

  function say(text, isError = false) {
    const status = element("status");
    status.textContent = text;
    status.classList.toggle("error", isError);
  }

  function fail(error) {
    explorer.status = "error";
    const code = error.code ? ` (${error.code})` : "";
    say(`${error.message}${code}`, true);
    if (error.code === "UNAUTHENTICATED") forgetKey(false);
  }

  function clip(text, length) {
    const flat = String(text ?? "").replace(/\s+/g, " ").trim();
    return flat.length > length ? flat.slice(0, length - 1) + "…" : flat;
  }

  // ---- key and cube ------------------------------------------------------------------------------

  async function connect() {
    explorer.status = "connecting";
    say("Connecting…");
    const data = await graphql(ME_QUERY);
    explorer.user = data.me.user;
    explorer.cubes = data.me.accessibleCubes;
    element("who").textContent = `${data.me.user.name} (${data.me.user.role})`;
    element("api-key").value = "";
    element("forget").hidden = false;
    element("api-key").hidden = true;
    element("connect").hidden = true;
    element("api-key").labels.forEach((label) => { label.hidden = true; });
    const select = element("cube");
    select.replaceChildren();
    const prompt = document.createElement("option");
    prompt.value = "";
    prompt.textContent = explorer.cubes.length ? "pick a cube…" : "no cube you may read";
    select.append(prompt);
    for (const cube of explorer.cubes) {
      const option = document.createElement("option");
      option.value = cube.id;
      option.textContent = `${cube.name} (${cube.cubeId})`;
      select.append(option);
    }
    select.hidden = false;
    element("cube-label").hidden = false;
    explorer.status = "connected";
    say(`${explorer.cubes.length} cube(s) you may read. Pick one to draw its graph.`);
  }

  function forgetKey(clearStatus = true) {
    sessionStorage.removeItem(KEY_STORAGE);
    explorer.user = null;
    explorer.cubes = [];
    element("who").textContent = "";
    for (const id of ["cube", "cube-label", "search-form", "forget"]) element(id).hidden = true;
    element("api-key").hidden = false;
    element("connect").hidden = false;
    element("api-key").labels.forEach((label) => { label.hidden = false; });
    if (explorer.cy) explorer.cy.elements().remove();
    explorer.memories = new Map();
    explorer.cube = null;
    renderSelection(null);
    element("counts").replaceChildren();
    element("hits").replaceChildren();
    if (clearStatus) {
      explorer.status = "idle";
      say("Key forgotten. Enter an API key to see the cubes you may read.");
    }
  }

  async function loadCube(cubeId) {
    explorer.status = "loading";
    say("Loading the cube's graph…");
    let after = null;
    let cube = null;
    const memories = [];
    explorer.pages = 0;
    for (;;) {
      const data = await graphql(CUBE_QUERY, { cube: cubeId, first: PAGE_SIZE, after, historyFirst: HISTORY_PAGE });
      explorer.pages += 1;
      cube = data.cube;
      for (const edge of cube.memories.edges) memories.push(edge.node);
      const page = cube.memories.pageInfo;
      if (!page.hasNextPage || memories.length >= MAX_MEMORIES) break;
      after = page.endCursor;
    }
    explorer.cube = cube;
    explorer.totalMemories = cube.memories.totalCount;
    explorer.truncated = memories.length < cube.memories.totalCount;
    explorer.memories = new Map(memories.map((memory) => [memory.id, memory]));
    element("search-form").hidden = false; // before drawing: it changes the header's height
    await draw(cube, memories);
    explorer.status = "drawn";
    const more = explorer.truncated ? ` (the first ${memories.length} of ${explorer.totalMemories})` : "";
    say(`${cube.name}: ${memories.length} memories${more}. Click a node for its detail; search to highlight.`);
  }

  // ---- the graph ---------------------------------------------------------------------------------

  function graphElements(cube, memories) {
    const nodes = new Map();
    const edges = new Map();
    const addNode = (id, kind, label, record) => {
      if (!nodes.has(id)) nodes.set(id, { group: "nodes", data: { id, kind, label, record } });
    };
    const addEdge = (source, target, type, label) => {
      const id = `${type}:${source}->${target}`;
      if (!edges.has(id)) edges.set(id, { group: "edges", data: { id, source, target, type, label } });
    };
    const cubeNode = `cube:${cube.id}`;
    addNode(cubeNode, "cube", cube.name, cube);
    if (cube.owner) {
      // A USER sees other users by id alone (name and role null): label them by id then.
      const owner = cube.owner;
      addNode(`user:${owner.id}`, "user", owner.name ?? owner.userId, { ...owner, relation: "owner" });
      addEdge(`user:${cube.owner.id}`, cubeNode, "OWNS", "OWNS");
    }
    for (const share of cube.sharedWith) {
      const userNode = `user:${share.node.id}`;
      addNode(userNode, "user", share.node.name ?? share.node.userId, { ...share.node, relation: "shared",
                                                                         permission: share.permission,
                                                                         since: share.since });
      addEdge(cubeNode, userNode, "SHARED_WITH", `SHARED_WITH ${share.permission}`);
    }
    const messages = new Map();
    for (const memory of memories) {
      const memoryNode = `memory:${memory.id}`;
      addNode(memoryNode, "memory", clip(memory.memory, 36), memory);
      addEdge(cubeNode, memoryNode, "HAS_MEMORY", "");
      for (const derivation of memory.derivedFrom) {
        const source = derivation.node;
        const kind = source.__typename === "Message" ? "message"
          : source.__typename === "Document" ? "document" : "version";
        if (kind === "version") continue; // drawn from history below, with the chain between versions
        const sourceNode = `${kind}:${source.id}`;
        const label = kind === "message" ? clip(`${source.name || source.role}: ${source.content}`, 32)
          : clip(source.name || source.path || source.key, 32);
        addNode(sourceNode, kind, label, source);
        if (kind === "message") messages.set(source.id, source);
        addEdge(memoryNode, sourceNode, "DERIVED_FROM", `DERIVED_FROM ${derivation.kind.toLowerCase()}`);
      }
      // history is newest first: the memory derives from the newest version, each version from the one before.
      let newer = memoryNode;
      for (const version of memory.history.edges.map((edge) => edge.node)) {
        const versionNode = `version:${version.id}`;
        addNode(versionNode, "version", `v${version.version}: ${clip(version.memory, 24)}`,
                { ...version, memoryId: memory.id });
        addEdge(newer, versionNode, "DERIVED_FROM", "DERIVED_FROM update");
        newer = versionNode;
      }
    }
    for (const message of messages.values()) {
      if (message.next && messages.has(message.next.id)) {
        addEdge(`message:${message.id}`, `message:${message.next.id}`, "NEXT", "NEXT");
      }
    }
    return [...nodes.values(), ...edges.values()];
  }

  function style() {
    return [
      { selector: "node", style: {
        "label": "data(label)", "font-size": 10, "color": "#1c2430", "text-valign": "bottom", "text-margin-y": 4,
        "text-wrap": "ellipsis", "text-max-width": 140, "width": 26, "height": 26,
        "border-width": 0, "border-color": COLORS.hit,
      } },
      { selector: 'node[kind = "cube"]', style: { "background-color": COLORS.cube, "shape": "hexagon",
                                                  "width": 46, "height": 46, "font-size": 12, "font-weight": 600 } },
      { selector: 'node[kind = "user"]', style: { "background-color": COLORS.user, "shape": "ellipse" } },
      { selector: 'node[kind = "memory"]', style: { "background-color": COLORS.memory, "shape": "round-rectangle",
                                                    "width": 34, "height": 22 } },
      { selector: 'node[kind = "message"]', style: { "background-color": COLORS.message, "shape": "ellipse" } },
      { selector: 'node[kind = "document"]', style: { "background-color": COLORS.document, "shape": "rectangle" } },
      { selector: 'node[kind = "version"]', style: { "background-color": COLORS.version, "shape": "diamond" } },
      { selector: "edge", style: {
        "width": 1.5, "line-color": "#b0bec5", "target-arrow-color": "#b0bec5", "target-arrow-shape": "triangle",
        "curve-style": "bezier", "arrow-scale": 0.8,
      } },
      { selector: 'edge[type = "HAS_MEMORY"]', style: { "line-color": "#e0e6eb", "target-arrow-color": "#e0e6eb",
                                                       "width": 1 } },
      { selector: 'edge[type = "NEXT"]', style: { "line-color": COLORS.message, "target-arrow-color": COLORS.message,
                                                 "width": 2.5, "label": "NEXT", "font-size": 8,
                                                 "text-rotation": "autorotate", "color": "#2e7d32" } },
      { selector: 'edge[type = "DERIVED_FROM"]', style: { "line-style": "dashed" } },
      { selector: 'edge[type = "OWNS"], edge[type = "SHARED_WITH"]', style: {
        "line-color": COLORS.user, "target-arrow-color": COLORS.user, "label": "data(label)", "font-size": 8,
        "text-rotation": "autorotate", "color": "#5e35b1" } },
      { selector: "node.hit", style: { "border-width": 5, "z-index": 10 } },
      { selector: ".faded", style: { "opacity": 0.3 } },
      { selector: "node:selected", style: { "border-width": 4, "border-color": "#e53935" } },
    ];
  }

  async function draw(cube, memories) {
    explorer.hits = [];
    element("hits").replaceChildren();
    renderSelection(null);
    // The header grew since Cytoscape measured its container (the cube list and search appeared): let it
    // measure again, or clicks land where the nodes were.
    explorer.cy.resize();
    explorer.cy.elements().remove();
    explorer.cy.add(graphElements(cube, memories));
    // Force-directed (cose) keeps each memory near its sources and versions; beyond a few hundred nodes it
    // gets slow, and rings by kind (concentric) draw at once.
    const layout = explorer.cy.nodes().length <= FORCE_LAYOUT_MAX_NODES
      ? { name: "cose", animate: false, randomize: true, nodeRepulsion: () => 9000, idealEdgeLength: () => 70,
          nodeOverlap: 20, padding: 30 }
      : { name: "concentric", animate: false, minNodeSpacing: 28, avoidOverlap: true,
          concentric: (node) => RING[node.data("kind")], levelWidth: () => 1 };
    // The layout may finish after run() returns: the drawing is done (and clickable where it shows) only at
    // layoutstop, and after the next frame is painted.
    const running = explorer.cy.layout(layout);
    const stopped = running.promiseOn("layoutstop");
    running.run();
    await stopped;
    explorer.cy.fit(undefined, 30);
    await new Promise((resolve) => requestAnimationFrame(() => resolve()));
    renderCounts();
  }

  function renderCounts() {
    const counts = element("counts");
    counts.replaceChildren();
    const heading = document.createElement("h2");
    heading.textContent = "In this drawing";
    const list = document.createElement("ul");
    const count = (selector) => explorer.cy.elements(selector).length;
    const rows = [
      ["memories", count('node[kind = "memory"]')], ["messages", count('node[kind = "message"]')],
      ["documents", count('node[kind = "document"]')], ["earlier versions", count('node[kind = "version"]')],
      ["users", count('node[kind = "user"]')], ["NEXT edges", count('edge[type = "NEXT"]')],
      ["DERIVED_FROM edges", count('edge[type = "DERIVED_FROM"]')],
    ];
    for (const [name, value] of rows) {
      const item = document.createElement("li");
      item.textContent = `${value} ${name}`;
      list.append(item);
    }
    counts.append(heading, list);
  }

  // ---- detail ------------------------------------------------------------------------------------

  function fields(pairs) {
    const list = document.createElement("dl");
    for (const [name, value] of pairs) {
      if (value === null || value === undefined || value === "" || (Array.isArray(value) && !value.length)) continue;
      const term = document.createElement("dt");
      term.textContent = name;
      const description = document.createElement("dd");
      description.textContent = Array.isArray(value) ? value.join(", ") : String(value);
      list.append(term, description);
    }
    return list;
  }

  function block(text) {
    const paragraph = document.createElement("p");
    paragraph.className = "text";
    paragraph.textContent = text;
    return paragraph;
  }

  function heading(level, kind, text) {
    const title = document.createElement(level);
    const badge = document.createElement("span");
    badge.className = `kind ${kind}`;
    badge.textContent = kind;
    title.append(badge, document.createTextNode(text));
    return title;
  }

  function memoryDetail(memory) {
    const parts = [heading("h2", "memory", memory.memoryId), block(memory.memory)];
    const meta = memory.metadata;
    parts.push(fields([
      ["memory type", meta.memoryType], ["type", meta.type], ["source", meta.source], ["status", meta.status],
      ["session", meta.sessionId], ["tags", meta.tags], ["key", meta.key], ["written by", meta.userId],
      ["last edit by", meta.updatedBy], ["created", meta.createdAt], ["updated", meta.updatedAt],
    ]));
    const derived = memory.derivedFrom.filter((edge) => edge.node.__typename !== "MemoryVersion");
    if (derived.length) {
      parts.push(heading("h3", "message", " derived from"));
      for (const edge of derived) {
        const source = edge.node;
        parts.push(source.__typename === "Message"
          ? fields([["role", source.name ? `${source.role} (${source.name})` : source.role],
                    ["content", source.content], ["chat time", source.chatTime], ["session", source.sessionId]])
          : fields([["document", source.name || source.key], ["path", source.path], ["checksum", source.checksum]]));
      }
    }
    const versions = memory.history.edges.map((edge) => edge.node);
    if (versions.length) {
      const more = memory.history.pageInfo.hasNextPage ? ", older ones not shown" : "";
      parts.push(heading("h3", "version", ` history (${versions.length} earlier${more}, newest first)`));
      const list = document.createElement("ul");
      list.className = "history";
      for (const version of versions) {
        const item = document.createElement("li");
        item.append(fields([["version", version.version], ["edited by", version.updatedBy],
                            ["updated", version.updatedAt || version.createdAt]]), block(version.memory));
        list.append(item);
      }
      parts.push(list);
    }
    return parts;
  }

  function otherDetail(kind, record) {
    if (kind === "message") {
      return [heading("h2", "message", ` ${record.role}`), block(record.content),
              fields([["name", record.name], ["key", record.key], ["chat time", record.chatTime],
                      ["session", record.sessionId], ["created", record.createdAt]])];
    }
    if (kind === "document") {
      return [heading("h2", "document", ` ${record.name || record.key}`),
              fields([["path", record.path], ["checksum", record.checksum], ["created", record.createdAt]])];
    }
    if (kind === "version") {
      return [heading("h2", "version", ` v${record.version}`), block(record.memory),
              fields([["edited by", record.updatedBy], ["created", record.createdAt], ["updated", record.updatedAt]])];
    }
    if (kind === "user") {
      return [heading("h2", "user", ` ${record.name ?? record.userId}`),
              fields([["user id", record.userId], ["role", record.role],
                      ["access", record.relation === "owner" ? "owner" : record.permission],
                      ["shared since", record.since]])];
    }
    return [heading("h2", "cube", ` ${record.name}`),
            fields([["cube id", record.cubeId], ["owner", record.ownerId], ["created", record.createdAt],
                    ["memories", explorer.totalMemories], ["you may write", record.canWrite ? "yes" : "no"]])];
  }

  function renderSelection(node) {
    const panel = element("selection");
    explorer.selected = node ? node.id() : null;
    if (!node) {
      const hint = document.createElement("p");
      hint.className = "hint";
      hint.textContent = "Click a node to see its detail.";
      panel.replaceChildren(hint);
      return;
    }
    const kind = node.data("kind");
    const record = node.data("record");
    panel.replaceChildren(...(kind === "memory" ? memoryDetail(record) : otherDetail(kind, record)));
  }

  // ---- search ------------------------------------------------------------------------------------

  async function search(text) {
    const data = await graphql(SEARCH_QUERY, { query: text, cube: explorer.cube.id, topK: SEARCH_TOP_K });
    const found = data.search.textMem.flatMap((group) => group.memories);
    explorer.hits = found.map((memory) => memory.id);
    highlight(found);
  }

  function highlight(found) {
    const cy = explorer.cy;
    cy.elements().removeClass("hit faded");
    const hitNodes = cy.collection(found.map((memory) => cy.getElementById(`memory:${memory.id}`)).filter((n) => n.length));
    if (found.length) {
      cy.elements().not(hitNodes).not(hitNodes.connectedEdges()).addClass("faded");
      hitNodes.addClass("hit");
    }
    const panel = element("hits");
    panel.replaceChildren();
    const title = document.createElement("h2");
    title.textContent = found.length ? `Search: ${found.length} best match(es)` : "Search: nothing found";
    const list = document.createElement("ol");
    for (const memory of found) {
      const item = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      const relevance = memory.metadata.relativity;
      button.textContent = `${clip(memory.memory, 60)}${relevance == null ? "" : ` (${relevance.toFixed(2)})`}`;
      button.addEventListener("click", () => select(`memory:${memory.id}`));
      item.append(button);
      list.append(item);
    }
    panel.append(title, list);
  }

  function select(nodeId) {
    const node = explorer.cy.getElementById(nodeId);
    if (!node.length) return;
    explorer.cy.elements(":selected").unselect();
    node.select().removeClass("faded");
    renderSelection(node);
  }

  // ---- wiring ------------------------------------------------------------------------------------

  function run(task) {
    task().catch(fail);
  }

  function start() {
    if (typeof window.cytoscape !== "function") {
      explorer.status = "error";
      say("The graph library is not installed on this server (scripts/setup.sh installs cytoscape).", true);
      return;
    }
    explorer.cy = window.cytoscape({
      container: element("graph"), style: style(), elements: [], minZoom: 0.1, maxZoom: 4,
      selectionType: "single", boxSelectionEnabled: false,
    });
    explorer.select = select;
    // Cytoscape measures its container once; when the page around it changes (the header's controls appear,
    // the window is resized), it must measure again, or clicks land where the nodes were.
    new ResizeObserver(() => explorer.cy.resize()).observe(element("graph"));
    explorer.cy.on("tap", "node", (event) => select(event.target.id()));
    explorer.cy.on("tap", (event) => { if (event.target === explorer.cy) renderSelection(null); });
    element("key-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const key = element("api-key").value.trim();
      if (!key) return;
      sessionStorage.setItem(KEY_STORAGE, key);
      run(connect);
    });
    element("forget").addEventListener("click", () => forgetKey());
    element("cube").addEventListener("change", (event) => {
      const cubeId = event.target.value;
      if (cubeId) run(() => loadCube(cubeId));
    });
    element("search-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const text = element("search").value.trim();
      if (text && explorer.cube) run(() => search(text));
    });
    element("clear-search").addEventListener("click", () => {
      element("search").value = "";
      explorer.hits = [];
      highlight([]);
      element("hits").replaceChildren();
    });
    if (sessionStorage.getItem(KEY_STORAGE)) run(connect); // a reload in the same tab keeps the key
  }

  start();
})();
