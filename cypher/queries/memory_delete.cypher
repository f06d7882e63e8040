// Delete one memory, its version history, and the messages and documents no other memory derives from.
MATCH (:MemCube {id: $cube_id})-[:HAS_MEMORY]->(m:Memory {id: $memory_id})
OPTIONAL MATCH (m)-[:DERIVED_FROM*1.. {kind: 'update'}]->(v:MemoryVersion)
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
