// One entry of a cube's working set by its own id, as memory_working returns it (the memory it holds, under
// the entry's id and times, memory_type WorkingMemory), without the vector unless asked for.
MATCH (:MemCube {id: $cube_id})-[w:WORKING {id: $entry_id}]->(m:Memory)
RETURN m {.*, id: w.id, memory_type: 'WorkingMemory', created_at: w.created_at, updated_at: w.updated_at,
          embedding: CASE WHEN $include_embedding THEN m.embedding END} AS memory
