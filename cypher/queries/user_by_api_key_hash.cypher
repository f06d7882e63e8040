// The user whose API key hashes to $digest (index-backed by user_api_key_hash).
MATCH (u:User {api_key_hash: $digest})
RETURN u {.id, .uid, .name, .role, .created_at, .is_active} AS user
