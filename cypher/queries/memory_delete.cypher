// Delete one memory, its version history (read by memory id, memory_version_history: never a walk of the
// version edges, which may branch after an import), and the messages and documents no other memory derives from.
// The cube's running total of text lengths (the BM25 average length) loses the memory's length.
MATCH (c:MemCube {id: $cube_id})-[:HAS_MEMORY]->(m:Memory {id: $memory_id})
SET c.term_total = coalesce(c.term_total, 0) - coalesce(m.term_count, 0)
WITH m
OPTIONAL MATCH (v:MemoryVersion)
WHERE v.cube_id = $cube_id AND v.memory_id = $memory_id AND v.version IS NOT NULL
WITH m, collect(v) AS versions
OPTIONAL MATCH (m)-[:DERIVED_FROM]->(source)
WHERE source:Message OR source:Document
WITH m, versions, collect(source) AS messages
FOREACH (v IN versions | DETACH DELETE v)
DETACH DELETE m
WITH messages
CALL (messages) {
  UNWIND messages AS msg
  WITH msg WHERE NOT EXISTS { (:Memory)-[:DERIVED_FROM]->(msg) }
  DETACH DELETE msg
}
RETURN 1 AS deleted
