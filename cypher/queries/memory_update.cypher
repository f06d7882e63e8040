// Update a memory in place, first copying its current state into a MemoryVersion node that the memory
// points to with DERIVED_FROM; earlier versions hang off that one, so the whole history stays reachable.
// Concurrent updates of one memory queue on its write lock, taken before anything is read, so each one
// versions the state the previous one committed: last write wins, and every replaced state is in the history.
MATCH (:MemCube {id: $cube_id})-[:HAS_MEMORY]->(m:Memory {id: $memory_id})
SET m.update_lock = true
REMOVE m.update_lock
WITH m
OPTIONAL MATCH (m)-[previous:DERIVED_FROM {kind: 'update'}]->(older:MemoryVersion)
// The copy takes its own id at once: a transient copy of the memory's id would collide in the
// memory_version_id_unique constraint with a concurrent update's copy.
CREATE (v:MemoryVersion)
SET v = m {.*, id: $version_id, memory_id: m.id, archived_at: datetime(), status: 'archived', embedding: null}
CREATE (m)-[:DERIVED_FROM {kind: 'update', at: datetime()}]->(v)
FOREACH (o IN CASE WHEN older IS NULL THEN [] ELSE [older] END |
  CREATE (v)-[:DERIVED_FROM {kind: 'update', at: previous.at}]->(o))
DELETE previous
SET m += $properties, m.updated_at = datetime(), m.version = coalesce(m.version, 1) + 1
WITH m
CALL (m) {
  WITH m WHERE $embedding IS NOT NULL
  CALL db.create.setNodeVectorProperty(m, 'embedding', $embedding)
}
RETURN m {.*, embedding: null} AS memory
