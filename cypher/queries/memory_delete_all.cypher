// Delete every memory of the named cubes, with their version histories (every MemoryVersion of the cube, by
// the memory_version_cube index), their message and document nodes
// and their BM25 vocabulary (:Term nodes); the cubes' total text length goes back to 0. Every match seeks a
// composite index on (cube_id, ...); the IS NOT NULL terms let the planner use it for cube_id alone (without
// them each cube scanned every node of the label: 520 cubes took 30 s).
UNWIND $cube_ids AS cube_id
CALL (cube_id) {
  MATCH (c:MemCube {id: cube_id})
  SET c.term_total = 0
}
CALL (cube_id) {
  MATCH (t:Term {cube_id: cube_id})
  WHERE t.term IS NOT NULL
  DETACH DELETE t
}
CALL (cube_id) {
  MATCH (msg:Message {cube_id: cube_id})
  WHERE msg.key IS NOT NULL
  DETACH DELETE msg
}
CALL (cube_id) {
  MATCH (doc:Document {cube_id: cube_id})
  WHERE doc.key IS NOT NULL
  DETACH DELETE doc
}
CALL (cube_id) {
  MATCH (v:MemoryVersion)
  WHERE v.cube_id = cube_id
  DETACH DELETE v
}
MATCH (m:Memory {cube_id: cube_id})
WHERE m.created_at IS NOT NULL
DETACH DELETE m
RETURN count(*) AS deleted
