// Give a user this API key hash only if it has none yet (the root key at start-up); returns the user when set.
MATCH (u:User {id: $user_id})
WHERE u.api_key_hash IS NULL
SET u.api_key_hash = $digest
RETURN u.id AS id
