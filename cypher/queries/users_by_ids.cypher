// Users by id, for batched loading.
MATCH (u:User)
WHERE u.id IN $user_ids
RETURN u {.id, .name, .role, .created_at, .is_active} AS user
