// New memories of a cube with a vector index of its own (graph/cube_index.py) get the cube's label, in the
// add's transaction. The label is a parameter (a dynamic label), read from the cube under its lock.
MATCH (m:Memory)
WHERE m.id IN $memory_ids AND m.cube_id = $cube_id
SET m:$($label)
RETURN count(m) AS labelled
