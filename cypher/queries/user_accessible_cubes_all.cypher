// Cubes a ROOT or ADMIN may see: every active cube.
MATCH (me:User {id: $user_id})
MATCH (owner:User)-[:OWNS]->(c:MemCube)
WHERE c.is_active
OPTIONAL MATCH (c)-[s:SHARED_WITH]->(me)
OPTIONAL MATCH (me)-[l:LOADED]->(c)
RETURN c {.*} AS cube, owner.id AS owner_id, s.permission AS shared_permission,
       l IS NOT NULL AS is_loaded, l.since AS loaded_since
ORDER BY c.created_at, c.id
