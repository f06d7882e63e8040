// A page of a cube's memories in creation order (index-backed by memory_cube_created).
MATCH (m:Memory)
WHERE m.cube_id = $cube_id AND m.created_at IS NOT NULL AND {{memory_filter m}}
RETURN m {.*, embedding: CASE WHEN $include_embedding THEN m.embedding END} AS memory
ORDER BY m.created_at, m.id
SKIP $skip LIMIT $limit
