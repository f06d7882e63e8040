// How many memories have no event time yet (maintenance.py backfill_event_times' progress total).
// Takes no parameters: it concerns the whole graph.
MATCH (m:Memory)
WHERE m.event_start IS NULL
RETURN count(m) AS n
