// The earlier versions of each (cube_id, memory_id) pair's memory, newest first (Memory.history).
UNWIND $pairs AS pair
MATCH (m:Memory {id: pair.memory_id})
WHERE m.cube_id = pair.cube_id
MATCH (m)-[:DERIVED_FROM*1.. {kind: 'update'}]->(v:MemoryVersion)
WITH pair, v
ORDER BY v.version DESC
RETURN pair.memory_id AS memory_id,
       collect(v {.*, embedding: null, created_at: toString(v.created_at), updated_at: toString(v.updated_at)})
         AS versions
