// Deactivate or reactivate a user; an inactive user's key and calls are refused, its data stays.
MATCH (u:User {id: $user_id})
SET u.is_active = $active
RETURN u.id AS id
