// Create a user (graph/models.py's UserNode declares its properties); the id's uniqueness constraint
// refuses a taken id. `uid` is the user's immutable identity (an id can be reused after a delete).
CREATE (u:User {id: $user_id, uid: randomUUID(), name: $user_name, role: $role, created_at: datetime(),
                is_active: true, api_key_hash: $api_key_hash})
RETURN u {.id, .uid, .name, .role, .created_at, .is_active} AS user
