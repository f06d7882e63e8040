// Near-duplicate memories within one cube, by embedding similarity: candidates for merging or clean-up.
// Identical text cannot occur twice in a cube (the memory_content_unique constraint), so these are
// different wordings of the same thing. Each active memory asks the HNSW index for its neighbours.
// The index covers every cube, and Neo4j 5.26 cannot filter inside a vector query, so the neighbours of
// a memory are fetched from the whole graph and then cut to this cube: $candidates must be large enough
// that the cube's own neighbours are among them (see below). HNSW is approximate: a pair can be missed;
// duplicate_candidates_exact.cypher compares every pair instead.
//
// Parameters:
//   $cube_id: string, the cube to inspect.
//   $threshold: float, minimum score in Neo4j's 0..1 cosine mapping, (1 + cosine) / 2. 0.9 (cosine 0.8)
//               finds paraphrases with all-MiniLM-L6-v2; 0.95 (cosine 0.9) near-verbatim repeats.
//   $candidates: integer, neighbours fetched per memory from the global index (k). Choose about
//                10 x (memories in the graph / memories in the cube), at least 50; a cube holding 1% of
//                the graph needs about 1000. Larger is slower (one index query per memory of the cube).
//   $limit: integer, most pairs returned.
// Returns: a_id, a_memory, b_id, b_memory, score (float), one row per pair with a_id < b_id, ordered by
//   score descending, then a_id, b_id.
// Index: memory_cube_status (Memory.cube_id, Memory.status) lists the cube's active memories;
//   memory_embedding (vector index, cosine) finds the neighbours.
MATCH (a:Memory)
WHERE a.cube_id = $cube_id AND a.status = 'activated' AND a.embedding IS NOT NULL
CALL db.index.vector.queryNodes('memory_embedding', $candidates, a.embedding) YIELD node AS b, score
WHERE b.cube_id = $cube_id AND b.status = 'activated' AND b <> a AND score >= $threshold
// A pair found from either side counts once: HNSW is not symmetric, so keep the best score seen.
WITH CASE WHEN a.id < b.id THEN a ELSE b END AS first, CASE WHEN a.id < b.id THEN b ELSE a END AS second,
     score
WITH first, second, max(score) AS score
RETURN first.id AS a_id, first.memory AS a_memory, second.id AS b_id, second.memory AS b_memory, score
ORDER BY score DESC, a_id, b_id
LIMIT $limit;
