// Index newly stored memories for the per-cube BM25 ranking, in the add's transaction: one HAS_TERM edge
// per distinct term (tf: count in the text, dl: the text's length in terms) to the cube's :Term node, and
// the cube's running total of lengths (for the average length). The cube is written first, so concurrent
// writers of one cube queue on it before touching its terms. Returns, read under that lock, the cube's size
// and the label of its own vector index if it has one (graph/cube_index.py: new memories must carry it).
MATCH (c:MemCube {id: $cube_id})
SET c.term_total = coalesce(c.term_total, 0) + $length_total
WITH c
UNWIND $rows AS row
MATCH (m:Memory {id: row.id})
WHERE m.cube_id = $cube_id
SET m.term_count = row.length
WITH c, m, row
CALL (m, row) {
  UNWIND row.postings AS posting
  MERGE (t:Term {cube_id: $cube_id, term: posting.term})
  CREATE (m)-[:HAS_TERM {tf: posting.tf, dl: row.length}]->(t)
}
WITH c, count(m) AS indexed
RETURN indexed, COUNT { (c)-[:HAS_MEMORY]->() } AS cube_size, c.vector_label AS vector_label,
       c.vector_index IS NOT NULL AS has_own_index
