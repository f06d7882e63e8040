// A page of memories to re-embed (memos_graph/maintenance.py), in id order after $after (keyset, on the
// memory_id_unique index). A memory derived from a message comes with that message and the messages before
// it, up to $window of them (nearest first), for the context an add embeds a message with. NEXT links
// consecutive messages of one add; 10 is the most ingest.context_messages allows.
MATCH (m:Memory)
WHERE m.id > $after
WITH m ORDER BY m.id LIMIT $limit
OPTIONAL MATCH (m)-[:DERIVED_FROM {kind: 'message'}]->(message:Message)
WITH m, head(collect(message)) AS message
RETURN m.id AS id, m.memory AS memory,
       CASE WHEN message IS NULL THEN null ELSE message {.role, .name, .content, .chat_time} END AS message,
       CASE WHEN message IS NULL OR $window = 0 THEN [] ELSE
         [path = (before:Message)-[:NEXT*1..10]->(message) WHERE length(path) <= $window |
          before {.role, .name, .content, .chat_time, distance: length(path)}] END AS before
ORDER BY id
