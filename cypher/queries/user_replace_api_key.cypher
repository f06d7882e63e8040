// Replace a user's API key hash ($digest null: the user is left without a key) and record who did it, when
// and how (rotate, reset, revoke, root_key_apply): the durable half of the audit trail, read by operators.
MATCH (u:User {id: $user_id})
SET u.api_key_hash = $digest, u.api_key_reset_at = datetime(), u.api_key_reset_by = $actor_id,
    u.api_key_reset_action = $action
RETURN toString(u.api_key_reset_at) AS reset_at
