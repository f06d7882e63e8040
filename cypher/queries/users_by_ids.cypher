// Users by id, for batched loading.
MATCH (u:User)
WHERE u.id IN $user_ids
RETURN u {.id, .uid, .name, .role, .created_at, .is_active} AS user
