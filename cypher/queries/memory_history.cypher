// Earlier versions of a memory, newest first.
MATCH (:MemCube {id: $cube_id})-[:HAS_MEMORY]->(m:Memory {id: $memory_id})
MATCH (m)-[:DERIVED_FROM*1.. {kind: 'update'}]->(v:MemoryVersion)
RETURN v {.*} AS memory
ORDER BY v.version DESC
