// Cubes a USER or GUEST may see: owned, or shared with it. Traverses from the user, never scans all cubes.
MATCH (me:User {id: $user_id})
CALL (me) {
  MATCH (me)-[:OWNS]->(c:MemCube)
  RETURN c
  UNION
  MATCH (c:MemCube)-[:SHARED_WITH]->(me)
  RETURN c
}
WITH me, c WHERE c.is_active
MATCH (owner:User)-[:OWNS]->(c)
OPTIONAL MATCH (c)-[s:SHARED_WITH]->(me)
OPTIONAL MATCH (me)-[l:LOADED]->(c)
RETURN c {.*} AS cube, owner.id AS owner_id, s.permission AS shared_permission,
       l IS NOT NULL AS is_loaded, l.since AS loaded_since
ORDER BY c.created_at, c.id
