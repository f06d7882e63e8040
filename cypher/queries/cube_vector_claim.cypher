// Step 1 of giving a large cube its own vector index (graph/cube_index.py): the cube records the label its
// memories carry; from now on every add labels its new memories (memory_label_new, reading the label under
// the cube's lock). Only an active cube that no import holds; re-running it (same label) is harmless.
MATCH (c:MemCube {id: $cube_id})
WHERE c.is_active AND c.import_id IS NULL AND coalesce(c.vector_label = $label, true)
SET c.vector_label = $label
RETURN c.id AS cube_id
