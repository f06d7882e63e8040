// Delete every memory of the named cubes, with their version histories, their message and document nodes
// and their BM25 vocabulary (:Term nodes); the cubes' total text length goes back to 0.
UNWIND $cube_ids AS cube_id
CALL (cube_id) {
  MATCH (c:MemCube {id: cube_id})
  SET c.term_total = 0
}
CALL (cube_id) {
  MATCH (t:Term {cube_id: cube_id})
  DETACH DELETE t
}
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
