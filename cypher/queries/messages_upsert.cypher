// Create the :Message provenance nodes of an add (one per (cube_id, key)); existing ones are kept as they are.
UNWIND $messages AS message
MERGE (msg:Message {cube_id: $cube_id, key: message.key})
ON CREATE SET msg += message, msg.created_at = datetime()
RETURN count(msg) AS messages
