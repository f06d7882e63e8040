// Add a batch of memories to one cube in one statement. MERGE on (cube_id, content_hash) under the
// memory_content_unique constraint: text the cube already holds is not stored twice. created_at comes
// from the caller, a microsecond apart within a batch, so listing order is input order.
MATCH (c:MemCube {id: $cube_id})
UNWIND $rows AS row
MERGE (m:Memory {cube_id: $cube_id, content_hash: row.content_hash})
ON CREATE SET m += row.properties, m.updated_at = m.created_at, m.version = 1
WITH c, m, row, m.id = row.properties.id AS created
CALL (m, row, created) {
  WITH m, row, created WHERE created
  CALL db.create.setNodeVectorProperty(m, 'embedding', row.embedding)
}
MERGE (c)-[:HAS_MEMORY]->(m)
RETURN row.properties.id AS requested_id, m.id AS id, created
