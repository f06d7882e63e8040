// First step of deleting a cube, one transaction: the cube becomes inactive (every access check and write
// guard refuses it from now on) and nobody else holds it (shares and loads go). Its own vector index, if any
// (graph/cube_index.py), is named for the last step to drop.
MATCH (c:MemCube {id: $cube_id})
SET c.is_active = false, c.deleting_since = coalesce(c.deleting_since, datetime())
WITH c
CALL (c) {
  MATCH (c)-[s:SHARED_WITH]->(:User)
  DELETE s
}
CALL (c) {
  MATCH (:User)-[l:LOADED]->(c)
  DELETE l
}
RETURN c.id AS id, c.vector_index AS vector_index
