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
  // Labels that would overlap one drawn before them (cubes and users first, then memories, then the rest)
  // are not drawn, and below this zoom (text too small to read) memory, message, document and version
  // labels are not drawn at all; either way the node under the pointer, the selected one and search hits
  // show theirs. Cube and user labels are always drawn, on a white ground, above the rest.
  const LABEL_ZOOM = 0.9;
  const ZOOM_STEP = 1.25;
  const FIT_PADDING = 30;
  // The "[chat time] " that opens a memory taken from a message (the server's message_text).
  const CHAT_TIME_PREFIX = /^\[[^\]\n]{1,64}\]\s*/;
  // An ISO 8601 date-time as the API gives them: shown in the browser's locale and timezone.
  const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;

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
    merge: true, // a message drawn as one node with the memory taken from it (when it gave just that one)
    draws: 0, // drawings finished (a redraw after the merge option changes counts too)
    fitted: false, // the view is as the last fit left it: a resize fits again
    labelsQuiet: false, // zoomed out below LABEL_ZOOM: most labels hidden
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

  // A time from the API as a <time> element reading in the browser's locale and timezone (the ISO value in
  // its datetime attribute and tooltip); a time that is no ISO date-time (a chat time may be free text) as is.
  function moment(value) {
    if (typeof value !== "string" || !ISO_TIME.test(value) || Number.isNaN(Date.parse(value))) return value;
    const time = document.createElement("time");
    time.dateTime = value;
    time.title = value;
    time.textContent = localTime(value);
    return time;
  }

  function localTime(value) {
    if (typeof value !== "string" || !ISO_TIME.test(value) || Number.isNaN(Date.parse(value))) return value ?? "";
    return new Date(value).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
  }

  function messagesOf(memory) {
    return memory.derivedFrom.map((edge) => edge.node).filter((source) => source.__typename === "Message");
  }

  // The message a memory was taken from, when it was taken from exactly one.
  function onlyMessage(memory) {
    const messages = messagesOf(memory);
    return messages.length === 1 ? messages[0] : null;
  }

  function speakerOf(message) {
    return message.name || message.role;
  }

  // "speaker, time" for a message's tooltip.
  function spoken(message) {
    return [speakerOf(message), localTime(message.chatTime || message.createdAt)].filter(Boolean).join(", ");
  }

  // A memory's text without the "[time] speaker: " it opens with when taken from a message: the label shows
  // what was said, the tooltip who said it and when.
  function memoryText(memory, message) {
    let text = String(memory.memory ?? "");
    if (!message) return text;
    text = text.replace(CHAT_TIME_PREFIX, "");
    const speaker = `${speakerOf(message)}: `;
    return text.startsWith(speaker) ? text.slice(speaker.length) : text;
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

  function graphElements(cube, memories, merge) {
    const nodes = new Map();
    const edges = new Map();
    const addNode = (id, kind, label, record, extra = {}) => {
      if (!nodes.has(id)) nodes.set(id, { group: "nodes", data: { id, kind, label, record, ...extra } });
    };
    const addEdge = (source, target, type, label) => {
      const id = `${type}:${source}->${target}`;
      if (!edges.has(id)) edges.set(id, { group: "edges", data: { id, source, target, type, label } });
    };
    const cubeNode = `cube:${cube.id}`;
    addNode(cubeNode, "cube", cube.name, cube, { tooltip: `cube ${cube.name} (${cube.cubeId})` });
    if (cube.owner) {
      // A USER sees other users by id alone (name and role null): label them by id then.
      const owner = cube.owner;
      addNode(`user:${owner.id}`, "user", owner.name ?? owner.userId, { ...owner, relation: "owner" },
              { tooltip: `owner ${owner.userId}` });
      addEdge(`user:${cube.owner.id}`, cubeNode, "OWNS", "OWNS");
    }
    for (const share of cube.sharedWith) {
      const userNode = `user:${share.node.id}`;
      addNode(userNode, "user", share.node.name ?? share.node.userId, { ...share.node, relation: "shared",
                                                                         permission: share.permission,
                                                                         since: share.since },
              { tooltip: `${share.node.userId}: ${share.permission}` });
      addEdge(cubeNode, userNode, "SHARED_WITH", `SHARED_WITH ${share.permission}`);
    }
    // How many memories each message gave: only a message that gave one memory, the memory's only message,
    // is merged with it (otherwise which node would it be?).
    const given = new Map();
    for (const memory of memories) {
      for (const message of messagesOf(memory)) given.set(message.id, (given.get(message.id) || 0) + 1);
    }
    const drawnAs = new Map(); // message id -> the node drawing it (its own, or its memory's when merged)
    const messages = new Map();
    for (const memory of memories) {
      const memoryNode = `memory:${memory.id}`;
      const message = onlyMessage(memory);
      const merged = merge && message !== null && given.get(message.id) === 1 ? message : null;
      const text = memoryText(memory, message);
      const said = message ? `${spoken(message)}\n` : "";
      addNode(memoryNode, "memory", clip(text, 36), memory, { tooltip: `${said}${clip(memory.memory, 300)}`,
                                                              message: merged });
      if (merged) {
        drawnAs.set(merged.id, memoryNode);
        messages.set(merged.id, merged);
      }
      addEdge(cubeNode, memoryNode, "HAS_MEMORY", "");
      for (const derivation of memory.derivedFrom) {
        const source = derivation.node;
        const kind = source.__typename === "Message" ? "message"
          : source.__typename === "Document" ? "document" : "version";
        if (kind === "version") continue; // drawn from history below, with the chain between versions
        if (merged && source.id === merged.id) continue;
        const sourceNode = `${kind}:${source.id}`;
        if (kind === "message") {
          addNode(sourceNode, kind, clip(source.content, 32), source,
                  { tooltip: `${spoken(source)}\n${clip(source.content, 300)}` });
          drawnAs.set(source.id, sourceNode);
          messages.set(source.id, source);
        } else {
          addNode(sourceNode, kind, clip(source.name || source.path || source.key, 32), source,
                  { tooltip: source.path || source.name || source.key });
        }
        addEdge(memoryNode, sourceNode, "DERIVED_FROM", `DERIVED_FROM ${derivation.kind.toLowerCase()}`);
      }
      // history is newest first: the memory derives from the newest version, each version from the one before.
      let newer = memoryNode;
      for (const version of memory.history.edges.map((edge) => edge.node)) {
        const versionNode = `version:${version.id}`;
        addNode(versionNode, "version", `v${version.version}: ${clip(version.memory, 24)}`,
                { ...version, memoryId: memory.id },
                { tooltip: `v${version.version}, ${localTime(version.updatedAt || version.createdAt)}` });
        addEdge(newer, versionNode, "DERIVED_FROM", "DERIVED_FROM update");
        newer = versionNode;
      }
    }
    for (const message of messages.values()) {
      if (message.next && drawnAs.has(message.next.id)) {
        addEdge(drawnAs.get(message.id), drawnAs.get(message.next.id), "NEXT", "NEXT");
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
      // Cube and user labels: on a white ground, above every other node and label.
      { selector: 'node[kind = "cube"], node[kind = "user"]', style: {
        "text-background-color": "#fff", "text-background-opacity": 0.9, "text-background-padding": 2,
        "text-background-shape": "round-rectangle", "z-index": 20 } },
      { selector: 'node[kind = "cube"]', style: { "background-color": COLORS.cube, "shape": "hexagon",
                                                  "width": 46, "height": 46, "font-size": 12, "font-weight": 600 } },
      { selector: 'node[kind = "user"]', style: { "background-color": COLORS.user, "shape": "ellipse",
                                                  "font-weight": 600 } },
      { selector: 'node[kind = "memory"]', style: { "background-color": COLORS.memory, "shape": "round-rectangle",
                                                    "width": 34, "height": 22 } },
      { selector: 'node[kind = "message"]', style: { "background-color": COLORS.message, "shape": "ellipse" } },
      { selector: 'node[kind = "document"]', style: { "background-color": COLORS.document, "shape": "rectangle" } },
      { selector: 'node[kind = "version"]', style: { "background-color": COLORS.version, "shape": "diamond" } },
      // A memory drawn with the message it was taken from: the message's colour as its border.
      { selector: "node[?message]", style: { "border-width": 4, "border-color": COLORS.message } },
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
      { selector: "node.hit", style: { "border-width": 5, "border-color": COLORS.hit, "z-index": 10 } },
      { selector: ".faded", style: { "opacity": 0.3 } },
      { selector: "node:selected", style: { "border-width": 4, "border-color": "#e53935" } },
      // Crowded out or zoomed out: no label but the hovered, selected and hit nodes' (cubes and users have
      // theirs always).
      { selector: "node.quiet, node.crowded", style: { "label": "" } },
      { selector: "node.quiet.hover, node.quiet:selected, node.quiet.hit, node.crowded.hover, "
          + "node.crowded:selected, node.crowded.hit", style: {
        "label": "data(label)", "z-index": 15, "text-background-color": "#fff", "text-background-opacity": 0.9,
        "text-background-padding": 2 } },
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
    explorer.cy.add(graphElements(cube, memories, explorer.merge));
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
    fit();
    declutter();
    quietLabels(true);
    await new Promise((resolve) => requestAnimationFrame(() => resolve()));
    renderCounts();
    explorer.draws += 1;
  }

  // ---- the view ----------------------------------------------------------------------------------

  function fit() {
    explorer.cy.fit(undefined, FIT_PADDING);
    explorer.fitted = true;
  }

  // Zoom by a factor about the middle of the drawing (the buttons).
  function zoomBy(factor) {
    const cy = explorer.cy;
    cy.zoom({ level: cy.zoom() * factor, renderedPosition: { x: cy.width() / 2, y: cy.height() / 2 } });
    explorer.fitted = false;
  }

  // Mark "crowded" each label that would overlap one kept before it. Cytoscape scales labels with the
  // drawing, so what overlaps does not depend on the zoom: this runs after a layout and a node drag.
  function declutter() {
    const cy = explorer.cy;
    cy.nodes().removeClass("crowded");
    // What a label may not cover: the labels kept so far and every node but its own.
    const kept = [];
    const bodies = cy.nodes().map((node) => [node.id(), node.boundingBox({ includeLabels: false })]);
    const overlaps = (a, b) => a.x1 < b.x2 + 2 && b.x1 < a.x2 + 2 && a.y1 < b.y2 + 2 && b.y1 < a.y2 + 2;
    const crowded = [];
    const order = [cy.nodes('[kind = "cube"], [kind = "user"]'), cy.nodes('[kind = "memory"]'),
                   cy.nodes('[kind = "message"], [kind = "document"], [kind = "version"]')];
    for (const [rank, nodes] of order.entries()) {
      nodes.forEach((node) => {
        const box = node.boundingBox({ includeNodes: false, includeEdges: false, includeLabels: true });
        if (box.w === 0) return;
        const covers = kept.some((other) => overlaps(box, other))
          || bodies.some(([id, body]) => id !== node.id() && overlaps(box, body));
        if (rank > 0 && covers) crowded.push(node);
        else kept.push(box);
      });
    }
    cy.batch(() => cy.collection(crowded).addClass("crowded"));
  }

  // Hide or show the labels LABEL_ZOOM governs, when the zoom crossed it (or always, after a drawing).
  function quietLabels(always = false) {
    const quiet = explorer.cy.zoom() < LABEL_ZOOM;
    if (quiet === explorer.labelsQuiet && !always) return;
    explorer.labelsQuiet = quiet;
    const cy = explorer.cy;
    cy.batch(() => cy.nodes('[kind != "cube"][kind != "user"]').toggleClass("quiet", quiet));
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
      ["memories drawn with their message", count("node[?message]")],
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
      if (value instanceof Node) description.append(value);
      else description.textContent = Array.isArray(value) ? value.join(", ") : String(value);
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
      ["last edit by", meta.updatedBy], ["created", moment(meta.createdAt)],
      ["updated", moment(meta.updatedAt)],
    ]));
    const derived = memory.derivedFrom.filter((edge) => edge.node.__typename !== "MemoryVersion");
    if (derived.length) {
      parts.push(heading("h3", "message", " derived from"));
      for (const edge of derived) {
        const source = edge.node;
        parts.push(source.__typename === "Message"
          ? fields([["role", source.name ? `${source.role} (${source.name})` : source.role],
                    ["content", source.content], ["chat time", moment(source.chatTime)],
                    ["session", source.sessionId]])
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
                            ["updated", moment(version.updatedAt || version.createdAt)]]),
                    block(version.memory));
        list.append(item);
      }
      parts.push(list);
    }
    return parts;
  }

  function otherDetail(kind, record) {
    if (kind === "message") {
      return [heading("h2", "message", ` ${record.role}`), block(record.content),
              fields([["name", record.name], ["key", record.key], ["chat time", moment(record.chatTime)],
                      ["session", record.sessionId], ["created", moment(record.createdAt)]])];
    }
    if (kind === "document") {
      return [heading("h2", "document", ` ${record.name || record.key}`),
              fields([["path", record.path], ["checksum", record.checksum], ["created", moment(record.createdAt)]])];
    }
    if (kind === "version") {
      return [heading("h2", "version", ` v${record.version}`), block(record.memory),
              fields([["edited by", record.updatedBy], ["created", moment(record.createdAt)],
                      ["updated", moment(record.updatedAt)]])];
    }
    if (kind === "user") {
      return [heading("h2", "user", ` ${record.name ?? record.userId}`),
              fields([["user id", record.userId], ["role", record.role],
                      ["access", record.relation === "owner" ? "owner" : record.permission],
                      ["shared since", moment(record.since)]])];
    }
    return [heading("h2", "cube", ` ${record.name}`),
            fields([["cube id", record.cubeId], ["owner", record.ownerId], ["created", moment(record.createdAt)],
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
    // The detail of what was selected before is not about this search: clear it while the search runs.
    explorer.cy.elements(":selected").unselect();
    renderSelection(null);
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
    const legend = document.createElement("p");
    legend.className = "hint";
    legend.id = "score-legend";
    legend.textContent = "The number after each hit is its relativity, from 0 to 1: how close its meaning "
      + "(embeddings) and its words (BM25) are to the query, higher is closer; a time or speaker the query "
      + "names raises it.";
    for (const memory of found) {
      const item = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      const relevance = memory.metadata.relativity;
      const drawnMemory = explorer.memories.get(memory.id);
      const text = drawnMemory ? memoryText(drawnMemory, onlyMessage(drawnMemory)) : memory.memory;
      button.textContent = `${clip(text, 60)}${relevance == null ? "" : ` (${relevance.toFixed(2)})`}`;
      button.addEventListener("click", () => select(`memory:${memory.id}`));
      item.append(button);
      list.append(item);
    }
    panel.append(title, ...(found.length ? [legend] : []), list);
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
    // the window is resized), it must measure again, or clicks land where the nodes were. A view nobody
    // zoomed or panned since it was fitted is fitted again to the new size.
    new ResizeObserver(() => {
      explorer.cy.resize();
      if (explorer.fitted && explorer.cy.nodes().length) fit();
    }).observe(element("graph"));
    explorer.cy.on("dragpan scrollzoom pinchzoom", () => { explorer.fitted = false; });
    explorer.cy.on("zoom", () => quietLabels());
    explorer.cy.on("free", "node", () => declutter()); // a node dragged somewhere else
    element("fit").addEventListener("click", fit);
    element("zoom-in").addEventListener("click", () => zoomBy(ZOOM_STEP));
    element("zoom-out").addEventListener("click", () => zoomBy(1 / ZOOM_STEP));
    element("merge").checked = explorer.merge;
    element("merge").addEventListener("change", (event) => {
      explorer.merge = event.target.checked;
      if (explorer.cube) run(() => draw(explorer.cube, [...explorer.memories.values()]));
    });
    // The tooltip (speaker and time, the whole text) and the label of the node under the pointer.
    explorer.cy.on("mouseover", "node", (event) => {
      event.target.addClass("hover");
      element("graph").title = event.target.data("tooltip") || "";
    });
    explorer.cy.on("mouseout", "node", (event) => {
      event.target.removeClass("hover");
      element("graph").title = "";
    });
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
