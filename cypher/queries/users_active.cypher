// Every active user, oldest first (ROOT and ADMIN list users).
// Takes no parameters: it concerns every user.
MATCH (u:User)
WHERE u.is_active = true
RETURN u {.id, .uid, .name, .role, .created_at, .is_active} AS user
ORDER BY u.created_at
