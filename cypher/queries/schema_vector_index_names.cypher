// The name of every vector index: the shared one and the cubes' own (graph/cube_index.py).
// Takes no parameters: it lists every vector index.
SHOW VECTOR INDEXES YIELD name
RETURN name
