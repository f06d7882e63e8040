// Memories by id, whatever their cube, with the cube they belong to (node(id:); the caller's access to that
// cube is checked after). Timestamps as text.
UNWIND $memory_ids AS memory_id
MATCH (m:Memory {id: memory_id})
RETURN m.cube_id AS cube_id,
       m {.*, embedding: null, created_at: toString(m.created_at), updated_at: toString(m.updated_at)} AS memory
