// Delete every chat turn of one user (all sessions); other users' histories are untouched.
MATCH (t:ChatTurn {user_id: $user_id})
DETACH DELETE t
RETURN count(*) AS cleared
