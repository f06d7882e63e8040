// Update a memory in place, first copying its current state into a MemoryVersion node that the memory
// points to with DERIVED_FROM; earlier versions hang off that one, so the whole history stays reachable.
MATCH (:MemCube {id: $cube_id})-[:HAS_MEMORY]->(m:Memory {id: $memory_id})
OPTIONAL MATCH (m)-[previous:DERIVED_FROM {kind: 'update'}]->(older:MemoryVersion)
CREATE (v:MemoryVersion)
SET v = properties(m), v.id = $version_id, v.memory_id = m.id, v.archived_at = datetime(),
    v.status = 'archived'
REMOVE v.embedding
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
