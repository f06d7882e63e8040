// After a re-embed (memos_graph/maintenance.py) every cube records the model and dimension its memories'
// vectors now have; returns the cubes whose memories carry a label of their own (graph/cube_index.py), whose
// own vector index is to be built again for the new dimension.
MATCH (c:MemCube)
SET c.embedding_model = $model, c.embedding_dim = $dimension
RETURN count(c) AS cubes, [x IN collect(CASE WHEN c.vector_label IS NOT NULL THEN c.id END) WHERE x IS NOT NULL]
       AS labelled
