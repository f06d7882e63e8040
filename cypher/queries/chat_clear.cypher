// Delete every chat turn of one user (all sessions); other users' histories are untouched.
// Reached from the user (HAS_TURN, as chat_append links every turn), not by scanning every user's turns.
MATCH (:User {id: $user_id})-[:HAS_TURN]->(t:ChatTurn)
DETACH DELETE t
RETURN count(*) AS cleared
