// One memory of one cube, without its vector unless asked for.
MATCH (:MemCube {id: $cube_id})-[:HAS_MEMORY]->(m:Memory {id: $memory_id})
RETURN m {.*, embedding: CASE WHEN $include_embedding THEN m.embedding END} AS memory
