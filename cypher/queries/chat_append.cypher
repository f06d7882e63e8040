// Append turns to a user's session history in one statement. MERGE on the turn ids (made by the caller
// before the transaction) makes a retry idempotent: a commit that landed but whose answer was lost, then
// retried by the driver, stores each turn once.
MATCH (u:User {id: $user_id})
UNWIND $turns AS turn
MERGE (t:ChatTurn {id: turn.id})
ON CREATE SET t.user_id = $user_id, t.session_id = $session_id, t.role = turn.role, t.content = turn.content,
              t.seq = turn.seq, t.created_at = datetime()
MERGE (u)-[:HAS_TURN]->(t)
RETURN count(t) AS stored
