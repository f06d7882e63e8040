// Delete every memory of the named cubes, with their version histories and their message and document nodes.
UNWIND $cube_ids AS cube_id
CALL (cube_id) {
  MATCH (msg:Message {cube_id: cube_id})
  DETACH DELETE msg
}
CALL (cube_id) {
  MATCH (doc:Document {cube_id: cube_id})
  DETACH DELETE doc
}
MATCH (m:Memory {cube_id: cube_id})
OPTIONAL MATCH (m)-[:DERIVED_FROM*1.. {kind: 'update'}]->(v:MemoryVersion)
WITH m, collect(v) AS versions
FOREACH (v IN versions | DETACH DELETE v)
DETACH DELETE m
RETURN count(*) AS deleted
