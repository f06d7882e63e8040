// Near-duplicate memories within one cube, comparing every pair of its active memories exactly.
// Same answer as duplicate_candidates.cypher without the vector index's approximation or over-fetch, at
// a cost quadratic in the cube's size: fine up to a few thousand memories, slow beyond.
//
// Parameters:
//   $cube_id: string, the cube to inspect.
//   $threshold: float, minimum score in Neo4j's 0..1 cosine mapping, (1 + cosine) / 2, the same scale
//               as the vector index's scores (vector.similarity.cosine returns it). 0.9 finds paraphrases.
//   $limit: integer, most pairs returned.
// Returns: a_id, a_memory, b_id, b_memory, score (float), one row per pair with a_id < b_id, ordered by
//   score descending, then a_id, b_id.
// Index: memory_cube_status (Memory.cube_id, Memory.status) lists the cube's active memories.
MATCH (a:Memory)
WHERE a.cube_id = $cube_id AND a.status = 'activated' AND a.embedding IS NOT NULL
WITH collect(a) AS memories
UNWIND memories AS a
UNWIND memories AS b
WITH a, b
WHERE a.id < b.id
WITH a, b, vector.similarity.cosine(a.embedding, b.embedding) AS score
WHERE score >= $threshold
RETURN a.id AS a_id, a.memory AS a_memory, b.id AS b_id, b.memory AS b_memory, score
ORDER BY score DESC, a_id, b_id
LIMIT $limit;
