// The newest $limit turns of one user's session, returned oldest first.
MATCH (t:ChatTurn)
WHERE t.user_id = $user_id AND t.session_id = $session_id AND t.created_at IS NOT NULL  // chat_turn_user_session
WITH t ORDER BY t.created_at DESC, t.seq DESC LIMIT $limit
RETURN t.role AS role, t.content AS content
ORDER BY t.created_at, t.seq
