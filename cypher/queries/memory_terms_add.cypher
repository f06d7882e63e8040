// Index newly stored memories for the per-cube BM25 ranking, in the add's transaction: one HAS_TERM edge
// per distinct term (tf: count in the text, dl: the text's length in terms) to the cube's :Term node, and
// the cube's running total of lengths (for the average length). The cube is written first, so concurrent
// writers of one cube queue on it before touching its terms.
MATCH (c:MemCube {id: $cube_id})
SET c.term_total = coalesce(c.term_total, 0) + $length_total
WITH c
UNWIND $rows AS row
MATCH (m:Memory {id: row.id})
WHERE m.cube_id = $cube_id
SET m.term_count = row.length
WITH m, row
CALL (m, row) {
  UNWIND row.postings AS posting
  MERGE (t:Term {cube_id: $cube_id, term: posting.term})
  CREATE (m)-[:HAS_TERM {tf: posting.tf, dl: row.length}]->(t)
}
RETURN count(m) AS indexed
