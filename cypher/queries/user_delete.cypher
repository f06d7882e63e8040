// Last step of deleting a user: the node itself (its key hash with it) and every edge left (shares to it).
MATCH (u:User {id: $user_id})
DETACH DELETE u
RETURN count(*) AS deleted
