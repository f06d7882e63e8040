// The record of a user's latest API-key change (user_replace_api_key writes it): when, by whom, how.
MATCH (u:User {id: $user_id})
RETURN u.api_key_reset_at AS at, u.api_key_reset_by AS by, u.api_key_reset_action AS action
