// Point a memory at the messages it derives from (idempotent).
MATCH (:MemCube {id: $cube_id})-[:HAS_MEMORY]->(m:Memory {id: $memory_id})
UNWIND $keys AS key
MATCH (msg:Message {cube_id: $cube_id, key: key})
MERGE (m)-[:DERIVED_FROM {kind: 'message'}]->(msg)
RETURN count(msg) AS linked
