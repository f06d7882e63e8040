// A page of memories without an event time (stored before event times existed), for
// `memos-graph maintenance event-times` (memos_graph/maintenance.py): in id order after $after (keyset, on
// the memory_id_unique index), with what an add reads the time from: the text, the sources (chat_time and
// content), a memory_time given, and when it was created.
MATCH (m:Memory)
WHERE m.id > $after
WITH m ORDER BY m.id
WHERE m.event_start IS NULL
WITH m LIMIT $limit
RETURN m.id AS id, m.memory AS memory, m.sources_json AS sources_json, m.memory_time AS memory_time,
       toString(m.created_at) AS created_at
ORDER BY id
