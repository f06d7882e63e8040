// Take a share back: remove the SHARED_WITH edge and, when the user loses read access with it, its LOADED
// edge. Returns the permission the share had (no row: there was no such share).
MATCH (c:MemCube {id: $cube_id})-[s:SHARED_WITH]->(u:User {id: $target_user_id})
WITH c, u, s, s.permission AS permission
DELETE s
WITH c, u, permission
CALL (c, u) {
  WITH c, u WHERE $drop_loaded
  MATCH (u)-[l:LOADED]->(c)
  DELETE l
}
RETURN permission
