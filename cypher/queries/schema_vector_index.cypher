// The options (dimension, similarity, HNSW settings, quantization) of the vector index named $name, no row
// when it does not exist.
SHOW VECTOR INDEXES YIELD name, options
WHERE name = $name
RETURN options
