// Where one memory came from: the memory itself (depth 0), then everything it DERIVED_FROM, at any depth:
// the :Message nodes of a conversation, the :Document it was chunked from, and its earlier versions
// (:MemoryVersion, each pointing at the one before it, so version n-1 is at depth 1, n-2 at depth 2...).
// With $with_context, the messages just before and after each source message (NEXT edges) are added.
//
// Parameters:
//   $cube_id: string, the cube holding the memory.
//   $memory_id: string, the memory's id (uuid). No row at all when the cube does not hold it.
//   $with_context: boolean, add the conversation neighbours of each source message (kind 'previous' or
//                  'next', one level below the message they surround). Messages that are themselves
//                  sources are not repeated as context.
// Returns: depth (int), label ('Memory' | 'MemoryVersion' | 'Message' | 'Document'), key (id of a
//   memory or version, key of a message or document), kind (the DERIVED_FROM kind: 'message' |
//   'document' | 'update'; 'previous' | 'next' for context; null for the memory), via (key of the node
//   this one hangs off), text (memory or version text, message content, document path), time (when that
//   text was written: updated_at, else created_at), detail (a map of the label's other useful fields).
//   Ordered by depth, label, key.
// Index: memory_id_unique (uniqueness constraint on Memory.id) finds the memory; its HAS_MEMORY edge
//   checks the cube; its messages and document are its own DERIVED_FROM edges, and its versions are read by
//   memory id through memory_version_history, newest first (depth 1 the newest, each hanging off the one
//   before), never by walking the version edges: a branching version graph (an import could hold one)
//   costs its versions, not its paths.
MATCH (:MemCube {id: $cube_id})-[:HAS_MEMORY]->(m:Memory {id: $memory_id})
CALL (m) {
  RETURN m AS node, 0 AS depth, null AS kind, null AS via
  UNION
  MATCH (m)-[d:DERIVED_FROM]->(node)
  WHERE NOT node:MemoryVersion
  RETURN node, 1 AS depth, d.kind AS kind, m AS via
  UNION
  MATCH (v:MemoryVersion)
  WHERE v.cube_id = $cube_id AND v.memory_id = m.id AND v.version IS NOT NULL
  WITH v
  ORDER BY v.version DESC, v.id DESC
  WITH collect(v) AS versions
  UNWIND range(0, size(versions) - 1) AS i
  RETURN versions[i] AS node, i + 1 AS depth, 'update' AS kind, CASE i WHEN 0 THEN m ELSE versions[i - 1] END AS via
  UNION
  MATCH (m)-[:DERIVED_FROM {kind: 'message'}]->(source:Message)-[:NEXT]-(node:Message)
  WHERE $with_context AND NOT (m)-[:DERIVED_FROM]->(node)
  RETURN node, 2 AS depth, CASE WHEN (source)-[:NEXT]->(node) THEN 'next' ELSE 'previous' END AS kind,
         source AS via
}
// Properties are read from properties(node), a map: a property key no node has ever held ('checksum' and
// 'path' on a graph without documents) is then a missing map key, not a planner warning (01N52).
WITH node, depth, kind, via, labels(node)[0] AS label, properties(node) AS p
RETURN depth, label, coalesce(p.id, p.key) AS key, kind, coalesce(via.id, via.key) AS via,
       coalesce(p.memory, p.content, p.path) AS text,
       coalesce(p.updated_at, p.created_at) AS time,
       CASE label
         WHEN 'Memory' THEN {version: p.version, status: p.status, source: p.source, user_id: p.user_id,
                             session_id: p.session_id}
         WHEN 'MemoryVersion' THEN {version: p.version, archived_at: p.archived_at, user_id: p.user_id}
         WHEN 'Message' THEN {role: p.role, name: p.name, chat_time: p.chat_time, message_id: p.message_id,
                              session_id: p.session_id}
         WHEN 'Document' THEN {name: p.name, checksum: p.checksum}
       END AS detail
ORDER BY depth, label, key;
