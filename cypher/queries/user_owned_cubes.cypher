// Every cube a user owns, active or not (a user's deletion purges them all).
MATCH (:User {id: $user_id})-[:OWNS]->(c:MemCube)
RETURN c.id AS cube_id
ORDER BY c.id
