// Retention (limits.max_versions): after an update, delete the memory's oldest versions beyond the newest
// $keep, at most $batch of them (bounded work per update: a history over the cap, say after the cap was
// lowered, shrinks by $batch per update). Oldest means lowest version, then lowest version id, the order
// memory_history.cypher pages in. Read through the memory_version_history index; DETACH DELETE removes the
// DERIVED_FROM edges of the deleted versions, so the chain ends at the oldest version kept.
MATCH (:MemCube {id: $cube_id})-[:HAS_MEMORY]->(m:Memory {id: $memory_id})
CALL (m) {
  MATCH (v:MemoryVersion)
  WHERE v.cube_id = $cube_id AND v.memory_id = $memory_id AND v.version IS NOT NULL
  WITH v
  ORDER BY v.version DESC, v.id DESC
  SKIP $keep
  LIMIT $batch
  DETACH DELETE v
  RETURN count(*) AS trimmed
}
RETURN trimmed
