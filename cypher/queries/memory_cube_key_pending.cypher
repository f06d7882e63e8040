// Migration (data version 2): the cubes holding memories written before cube_key existed.
// Takes no parameters: it concerns the whole graph.
MATCH (m:Memory)
WHERE m.cube_key IS NULL
RETURN DISTINCT m.cube_id AS cube_id
LIMIT 100000
