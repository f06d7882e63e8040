// Step 4 (graph/cube_index.py): the cube's own vector index exists; searches of the cube use it from now on.
MATCH (c:MemCube {id: $cube_id})
WHERE c.vector_label = $label
SET c.vector_index = $index
RETURN c.id AS cube_id
