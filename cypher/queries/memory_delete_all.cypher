// Delete every memory of the named cubes, with their version histories.
UNWIND $cube_ids AS cube_id
MATCH (m:Memory {cube_id: cube_id})
OPTIONAL MATCH (m)-[:DERIVED_FROM*1.. {kind: 'update'}]->(v:MemoryVersion)
WITH m, collect(v) AS versions
FOREACH (v IN versions | DETACH DELETE v)
DETACH DELETE m
RETURN count(*) AS deleted
