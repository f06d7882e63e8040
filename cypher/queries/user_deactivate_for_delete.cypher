// First step of deleting a user, one transaction: it can no longer authenticate or act, and its cubes
// become inactive so that no share or guard lets anyone write into them while they are purged.
MATCH (u:User {id: $user_id})
SET u.is_active = false, u.api_key_hash = null, u.deleting_since = coalesce(u.deleting_since, datetime())
WITH u
CALL (u) {
  MATCH (u)-[:OWNS]->(c:MemCube)
  SET c.is_active = false
}
RETURN u.id AS id
