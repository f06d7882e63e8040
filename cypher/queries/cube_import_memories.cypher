// Import: one batch of memories (properties as stored, vector set through the vector procedure, BM25
// postings as an add writes them). Matches the cube only while this import holds it, so a batch of an
// import that lost its cube stores nothing.
MATCH (c:MemCube {id: $cube_id})
WHERE c.import_id = $import_id
SET c.term_total = coalesce(c.term_total, 0) + $length_total
WITH c
UNWIND $rows AS row
CREATE (m:Memory)
SET m = row.properties, m.import_id = $import_id, m.term_count = row.length
CREATE (c)-[:HAS_MEMORY]->(m)
WITH m, row
CALL (m, row) {
  CALL db.create.setNodeVectorProperty(m, 'embedding', row.embedding)
}
CALL (m, row) {
  UNWIND row.postings AS posting
  MERGE (t:Term {cube_id: $cube_id, term: posting.term})
  CREATE (m)-[:HAS_TERM {tf: posting.tf, dl: row.length}]->(t)
}
RETURN count(m) AS created
