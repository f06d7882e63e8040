// Import: one batch of memories (properties as stored, vector set through the vector procedure). Matches
// the cube only while this import holds it, so a batch of an import that lost its cube stores nothing.
MATCH (c:MemCube {id: $cube_id})
WHERE c.import_id = $import_id
UNWIND $rows AS row
CREATE (m:Memory)
SET m = row.properties, m.import_id = $import_id
CREATE (c)-[:HAS_MEMORY]->(m)
WITH m, row
CALL (m, row) {
  CALL db.create.setNodeVectorProperty(m, 'embedding', row.embedding)
}
RETURN count(m) AS created
