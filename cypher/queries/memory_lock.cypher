// Take a memory's write lock (held to the end of the transaction) and read its version under it.
MATCH (:MemCube {id: $cube_id})-[:HAS_MEMORY]->(m:Memory {id: $memory_id})
SET m.update_lock = true
REMOVE m.update_lock
RETURN coalesce(m.version, 1) AS version
