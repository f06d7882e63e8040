// One round trip for the common case: the cube's size and the graph's (O(1) each) and, when the cube has
// at most $exact_max memories, its exact top-k (cosine over the cube's active memories, index seek on
// cube_id). A larger cube returns no hits; the caller goes to the vector index.
MATCH (c:MemCube {id: $cube_id})
WITH COUNT { (c)-[:HAS_MEMORY]->() } AS cube_memories
CALL (cube_memories) {
  WITH cube_memories WHERE cube_memories <= $exact_max
  MATCH (m:Memory)
  WHERE m.cube_id = $cube_id AND m.status = 'activated'
  WITH m, vector.similarity.cosine(m.embedding, $vector) AS score
  ORDER BY score DESC, m.id
  LIMIT $top_k
  RETURN collect({memory: m {.*, embedding: null}, score: score}) AS hits
}
RETURN cube_memories, COUNT { (:Memory) } AS total_memories, hits
