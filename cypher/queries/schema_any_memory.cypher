// One memory, any: no row on a graph that holds none (the vector index may then be remade for another
// dimension, as nothing needs re-embedding).
// Takes no parameters: it concerns the whole graph.
MATCH (m:Memory)
RETURN m
LIMIT 1
