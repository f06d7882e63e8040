// A cube's memories in the order their events happened, within a window: "what happened when". Each
// memory's event span is set on add (memory_time, event_start, event_end; see memos_graph/domain/temporal.py):
// the time its text states ("yesterday", "last Saturday", "上周六") read against when it was said, else the
// day it was said (or added). A memory counts when its span overlaps the window.
//
// Parameters:
//   $cube_id: string, the cube.
//   $since: datetime, start of the window, inclusive, e.g. datetime('2023-05-01T00:00:00Z').
//   $until: datetime, end of the window, exclusive.
//   Window bounds: a zoned datetime is used exactly as given; one without a zone (Python's naive datetime,
//   Cypher's localdatetime) is read as UTC, a date as its midnight UTC, a text as ISO 8601 (no offset: the
//   server's zone, UTC by default). UTC here is the offset +00:00, as the stored times have it: the named
//   zone 'UTC' sorts after it at the same instant, so a bound made with it left out a memory made exactly
//   then. Anything else, null included, fails with a client error reading "$since: give a datetime, ..."
//   (the query raises it by parsing that sentence as a datetime: Cypher 5 has no other way to fail with a
//   message of its own).
// Returns: memory_id, memory_time (YYYY-MM-DD), event_start, event_end (datetimes, UTC), time_source
//   (text, chat_time, added or caller), session_id, memory (the text); ordered by event_start, then memory id.
//   Memories stored before event times existed have none and are left out.
// Index: the cube by its id (unique constraint), then its HAS_MEMORY edges: the cost is the cube's size.
WITH CASE
       WHEN $since IS :: ZONED DATETIME NOT NULL THEN $since
       WHEN $since IS :: LOCAL DATETIME NOT NULL THEN datetime({datetime: $since, timezone: '+00:00'})
       WHEN $since IS :: DATE NOT NULL THEN datetime({date: $since, timezone: '+00:00'})
       WHEN $since IS :: STRING NOT NULL THEN datetime($since)
       ELSE datetime('$since: give a datetime, a date or an ISO 8601 text')
     END AS since,
     CASE
       WHEN $until IS :: ZONED DATETIME NOT NULL THEN $until
       WHEN $until IS :: LOCAL DATETIME NOT NULL THEN datetime({datetime: $until, timezone: '+00:00'})
       WHEN $until IS :: DATE NOT NULL THEN datetime({date: $until, timezone: '+00:00'})
       WHEN $until IS :: STRING NOT NULL THEN datetime($until)
       ELSE datetime('$until: give a datetime, a date or an ISO 8601 text')
     END AS until
MATCH (:MemCube {id: $cube_id})-[:HAS_MEMORY]->(m:Memory)
WHERE m.status = 'activated' AND m.event_start IS NOT NULL
WITH m, since, until, datetime(m.event_start) AS event_start, datetime(m.event_end) AS event_end
WHERE event_end > since AND event_start < until
RETURN m.id AS memory_id, m.memory_time AS memory_time, event_start, event_end, m.time_source AS time_source,
       m.session_id AS session_id, m.memory AS memory
ORDER BY event_start, memory_id;
