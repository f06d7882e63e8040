// Register documents about to be (re)chunked. A document whose checksum changed loses its old chunk
// memories (with their histories) unless another document also yields them; then it takes the new checksum.
UNWIND $documents AS document
MERGE (doc:Document {cube_id: $cube_id, key: document.key})
ON CREATE SET doc.created_at = datetime()
WITH doc, document
CALL (doc) {
  MATCH (m:Memory)-[:DERIVED_FROM {kind: 'document'}]->(doc)
  WHERE NOT EXISTS { (m)-[:DERIVED_FROM {kind: 'document'}]->(other:Document) WHERE other <> doc }
  OPTIONAL MATCH (v:MemoryVersion)
  WHERE v.cube_id = $cube_id AND v.memory_id = m.id AND v.version IS NOT NULL
  WITH m, collect(v) AS versions
  FOREACH (v IN versions | DETACH DELETE v)
  WITH m
  MATCH (c:MemCube {id: $cube_id})
  SET c.term_total = coalesce(c.term_total, 0) - coalesce(m.term_count, 0)
  DETACH DELETE m
}
SET doc += document, doc.updated_at = datetime()
RETURN count(doc) AS registered
