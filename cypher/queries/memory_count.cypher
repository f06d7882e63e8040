// How many of a cube's memories pass $filter (a connection's totalCount).
MATCH (m:Memory)
WHERE m.cube_id = $cube_id AND m.created_at IS NOT NULL AND {{memory_filter m}}
RETURN count(m) AS memories
