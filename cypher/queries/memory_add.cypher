// Add a batch of memories to one cube in one statement. MERGE on (cube_id, content_hash) under the
// memory_content_unique constraint: text the cube already holds is not stored twice. created_at comes
// from the caller, a microsecond apart within a batch, so listing order is input order. A row gets a
// DERIVED_FROM edge to each :Message it names (created earlier in the same transaction) and to its
// :Document, one such node per (cube_id, key).
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
FOREACH (key IN coalesce(row.message_keys, []) |
  MERGE (msg:Message {cube_id: $cube_id, key: key})
  MERGE (m)-[:DERIVED_FROM {kind: 'message'}]->(msg))
FOREACH (document IN CASE WHEN row.document IS NULL THEN [] ELSE [row.document] END |
  MERGE (doc:Document {cube_id: $cube_id, key: document.key})
  ON CREATE SET doc += document, doc.created_at = datetime()
  MERGE (m)-[:DERIVED_FROM {kind: 'document'}]->(doc))
RETURN row.properties.id AS requested_id, m.id AS id, created
