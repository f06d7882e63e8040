// Mark a cube as loaded (registered) for a user; idempotent.
MATCH (u:User {id: $user_id}), (c:MemCube {id: $cube_id})
MERGE (u)-[l:LOADED]->(c)
ON CREATE SET l.since = datetime()
RETURN c.id AS cube_id
