// Exact tenant-scoped vector search: score only this cube's active memories (index seek on cube_id).
MATCH (m:Memory)
WHERE m.cube_id = $cube_id AND m.status = 'activated' AND {{memory_filter m}}
WITH m, vector.similarity.cosine(m.embedding, $vector) AS score
ORDER BY score DESC, m.id
LIMIT $top_k
RETURN m {.*, embedding: null, created_at: toString(m.created_at),
       updated_at: toString(m.updated_at)} AS memory, score
