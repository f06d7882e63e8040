// Approximate vector search through the HNSW index, keeping this cube's active memories. Timestamps as text
// (see search_cubes_hybrid).
// $candidates is chosen by the caller from the cube's share of the graph (see services/search.py).
CALL db.index.vector.queryNodes($index_name, $candidates, $vector) YIELD node, score
WHERE node.cube_id = $cube_id AND node.status = 'activated' AND {{memory_filter node}}
WITH node, score
ORDER BY score DESC, node.id
LIMIT $top_k
RETURN node {.*, embedding: null, created_at: toString(node.created_at),
       updated_at: toString(node.updated_at)} AS memory, score
