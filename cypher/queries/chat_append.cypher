// Append turns to a user's session history in one statement.
MATCH (u:User {id: $user_id})
UNWIND $turns AS turn
CREATE (t:ChatTurn {id: turn.id, user_id: $user_id, session_id: $session_id, role: turn.role,
                    content: turn.content, seq: turn.seq, created_at: datetime()})
CREATE (u)-[:HAS_TURN]->(t)
RETURN count(t) AS stored
