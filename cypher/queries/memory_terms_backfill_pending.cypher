// Migration (data version 3): the cubes holding memories without BM25 postings (no term_count yet).
// Takes no parameters: it concerns the whole graph.
MATCH (m:Memory)
WHERE m.term_count IS NULL
RETURN DISTINCT m.cube_id AS cube_id
