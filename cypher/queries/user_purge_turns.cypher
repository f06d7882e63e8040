// A user's chat history, in batches (auto-commit): part of deleting the user.
MATCH (:User {id: $user_id})-[:HAS_TURN]->(t:ChatTurn)
CALL (t) { DETACH DELETE t } IN TRANSACTIONS OF 5000 ROWS
