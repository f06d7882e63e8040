// Replace a user's API key hash.
MATCH (u:User {id: $user_id})
SET u.api_key_hash = $digest
RETURN u.id AS id
