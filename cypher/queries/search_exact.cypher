// Exact tenant-scoped vector search: score only this cube's active memories (index seek on cube_id).
MATCH (m:Memory)
WHERE m.cube_id = $cube_id AND m.status = 'activated'
WITH m, vector.similarity.cosine(m.embedding, $vector) AS score
ORDER BY score DESC, m.id
LIMIT $top_k
RETURN m {.*, embedding: null} AS memory, score
