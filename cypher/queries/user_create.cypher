// Create a user (graph/models.py's UserNode declares its properties); the id's uniqueness constraint
// refuses a taken id.
CREATE (u:User {id: $user_id, name: $user_name, role: $role, created_at: datetime(), is_active: true,
                api_key_hash: $api_key_hash})
RETURN u {.id, .name, .role, .created_at, .is_active} AS user
