// Store the event times maintenance read for a page of memories (memos_graph/maintenance.py), one
// transaction per page; a memory that got one meanwhile (an update) keeps its own.
UNWIND $rows AS row
MATCH (m:Memory {id: row.id})
WHERE m.event_start IS NULL
SET m.memory_time = row.memory_time, m.event_start = row.event_start, m.event_end = row.event_end,
    m.time_source = row.time_source
RETURN count(m) AS written
