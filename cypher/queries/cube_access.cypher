// The caller's relation to the named cubes: owner, share permission, whether loaded.
// Cubes that do not exist simply return no row.
UNWIND $cube_ids AS cube_id
MATCH (owner:User)-[:OWNS]->(c:MemCube {id: cube_id})
WHERE c.is_active
OPTIONAL MATCH (c)-[s:SHARED_WITH]->(:User {id: $user_id})
OPTIONAL MATCH (:User {id: $user_id})-[l:LOADED]->(c)
RETURN c {.*} AS cube, owner.id AS owner_id, s.permission AS shared_permission,
       l IS NOT NULL AS is_loaded, l.since AS loaded_since
