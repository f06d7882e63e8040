// The ids of the active cubes each user owns (User.cubes; the caller's access is checked on each after).
UNWIND $user_ids AS user_id
MATCH (:User {id: user_id})-[:OWNS]->(c:MemCube)
WHERE c.is_active
WITH user_id, c
ORDER BY c.created_at, c.id
RETURN user_id, collect(c.id) AS cube_ids
