// Dump: every memory of a cube with its vector, in creation order (index-backed by memory_cube_created).
MATCH (m:Memory)
WHERE m.cube_id = $cube_id AND m.created_at IS NOT NULL
RETURN m {.*} AS node
ORDER BY m.created_at, m.id
