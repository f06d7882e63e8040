// Delete one memory and its version history.
MATCH (:MemCube {id: $cube_id})-[:HAS_MEMORY]->(m:Memory {id: $memory_id})
OPTIONAL MATCH (m)-[:DERIVED_FROM*1.. {kind: 'update'}]->(v:MemoryVersion)
WITH m, collect(v) AS versions
FOREACH (v IN versions | DETACH DELETE v)
DETACH DELETE m
RETURN count(*) AS deleted
