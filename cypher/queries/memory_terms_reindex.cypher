// Re-index a batch of a cube's memories with the current analyzer (graph/schema.py reindex_terms), in one
// transaction: the cube is written first (the lock every writer of its terms takes first) with how far the
// re-index got ($after: the batch's last id, so an interrupted start resumes after it); then each memory whose
// text is still the one analysed loses its old HAS_TERM edges (and the cube's :Term nodes left without any
// go), gets its new postings and length, and the cube's total length moves by the difference.
MATCH (c:MemCube {id: $cube_id})
SET c.terms_reindexed_to = $after
WITH c
UNWIND $rows AS row
MATCH (m:Memory {id: row.id})
WHERE m.cube_id = $cube_id AND m.memory = row.memory
WITH c, m, row, coalesce(m.term_count, 0) AS before
SET m.term_count = row.length
WITH c, m, row, before
CALL (m) {
  MATCH (m)-[old:HAS_TERM]->(t:Term)
  DELETE old
  WITH DISTINCT t
  WHERE NOT EXISTS { (t)<-[:HAS_TERM]-() }
  DELETE t
}
CALL (m, row) {
  UNWIND row.postings AS posting
  MERGE (t:Term {cube_id: $cube_id, term: posting.term})
  CREATE (m)-[:HAS_TERM {tf: posting.tf, dl: row.length}]->(t)
}
WITH c, count(m) AS reindexed, sum(row.length - before) AS delta
SET c.term_total = coalesce(c.term_total, 0) + delta
RETURN reindexed
