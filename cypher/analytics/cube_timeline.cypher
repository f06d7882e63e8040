// A cube's memories in the order their events happened, within a window: "what happened when". Each
// memory's event span is set on add (memory_time, event_start, event_end; see memos_graph/domain/temporal.py):
// the time its text states ("yesterday", "last Saturday", "上周六") read against when it was said, else the
// day it was said (or added). A memory counts when its span overlaps the window.
//
// Parameters:
//   $cube_id: string, the cube.
//   $since: datetime (zoned), start of the window, inclusive, e.g. datetime('2023-05-01T00:00:00Z').
//   $until: datetime (zoned), end of the window, exclusive.
// Returns: memory_id, memory_time (YYYY-MM-DD), event_start, event_end (datetimes, UTC), time_source
//   (text, chat_time, added or caller), session_id, memory (the text); ordered by event_start, then memory id.
//   Memories stored before event times existed have none and are left out.
// Index: the cube by its id (unique constraint), then its HAS_MEMORY edges: the cost is the cube's size.
MATCH (:MemCube {id: $cube_id})-[:HAS_MEMORY]->(m:Memory)
WHERE m.status = 'activated' AND m.event_start IS NOT NULL
WITH m, datetime(m.event_start) AS event_start, datetime(m.event_end) AS event_end
WHERE event_end > $since AND event_start < $until
RETURN m.id AS memory_id, m.memory_time AS memory_time, event_start, event_end, m.time_source AS time_source,
       m.session_id AS session_id, m.memory AS memory
ORDER BY event_start, memory_id;
