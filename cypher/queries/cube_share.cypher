// Share a cube with a user, or change the permission of an existing share; one edge per pair.
MATCH (c:MemCube {id: $cube_id}), (u:User {id: $target_user_id})
MERGE (c)-[s:SHARED_WITH]->(u)
ON CREATE SET s.since = datetime()
SET s.permission = $permission
RETURN s.permission AS permission
