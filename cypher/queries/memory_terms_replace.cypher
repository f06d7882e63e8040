// Re-index one memory whose text changed: its old postings go, the new ones come, and the cube's total
// length moves by the difference; in the update's transaction.
MATCH (c:MemCube {id: $cube_id})
MATCH (m:Memory {id: $memory_id})
WHERE m.cube_id = $cube_id
SET c.term_total = coalesce(c.term_total, 0) - coalesce(m.term_count, 0) + $length, m.term_count = $length
WITH m
CALL (m) {
  MATCH (m)-[old:HAS_TERM]->()
  DELETE old
}
CALL (m) {
  UNWIND $postings AS posting
  MERGE (t:Term {cube_id: $cube_id, term: posting.term})
  CREATE (m)-[:HAS_TERM {tf: posting.tf, dl: $length}]->(t)
}
RETURN m.id AS id
