// Update a memory in place, first copying its current state into a MemoryVersion node that the memory
// points to with DERIVED_FROM; earlier versions hang off that one, so the whole history stays reachable.
// Concurrent updates of one memory queue on its write lock, taken before anything is read, so each one
// versions the state the previous one committed: last write wins, and every replaced state is in the history.
MATCH (:MemCube {id: $cube_id})-[:HAS_MEMORY]->(m:Memory {id: $memory_id})
SET m.update_lock = true
REMOVE m.update_lock
WITH m
// Collected, so that the update makes one copy even where the memory points at several versions (an
// imported graph that branches): the copy takes over every such edge.
OPTIONAL MATCH (m)-[previous:DERIVED_FROM {kind: 'update'}]->(:MemoryVersion)
WITH m, collect(previous) AS previous
// The copy takes its own id at once: a transient copy of the memory's id would collide in the
// memory_version_id_unique constraint with a concurrent update's copy.
CREATE (v:MemoryVersion)
SET v = m {.*, id: $version_id, memory_id: m.id, archived_at: datetime(), status: 'archived', embedding: null}
CREATE (m)-[:DERIVED_FROM {kind: 'update', at: datetime()}]->(v)
WITH m, v, previous
CALL (v, previous) {
  UNWIND previous AS edge
  WITH v, edge, endNode(edge) AS older
  CREATE (v)-[:DERIVED_FROM {kind: 'update', at: edge.at}]->(older)
  DELETE edge
}
SET m += $properties, m.updated_at = datetime(), m.version = coalesce(m.version, 1) + 1
WITH m
CALL (m) {
  WITH m WHERE $embedding IS NOT NULL
  CALL db.create.setNodeVectorProperty(m, 'embedding', $embedding)
}
RETURN m {.*, embedding: null} AS memory
