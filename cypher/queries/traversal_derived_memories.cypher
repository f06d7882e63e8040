// The memories of its own cube that derive from each message or document ($label, $kind: 'message' or
// 'document'), oldest first (Message.memories, Document.chunks). Timestamps as text.
UNWIND $pairs AS pair
MATCH (n {cube_id: pair.cube_id, key: pair.key})<-[:DERIVED_FROM {kind: $kind}]-(m:Memory)
WHERE m.cube_id = pair.cube_id AND (($label = 'Message' AND n:Message) OR ($label = 'Document' AND n:Document))
WITH pair, m
ORDER BY m.created_at, m.id
RETURN pair.cube_id AS cube_id, pair.key AS key,
       collect(m {.*, embedding: null, created_at: toString(m.created_at), updated_at: toString(m.updated_at)})
         AS memories
