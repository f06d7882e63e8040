// Memories created per cube per day, week or month, with the cube's owner: how each cube grows.
// Counts the memories that exist now (a deleted memory leaves no node behind); an update is not a new
// memory (see memory versions in provenance_chain.cypher). Buckets follow created_at, stored in UTC.
//
// Parameters:
//   $since: datetime, start of the window, inclusive, e.g. datetime('2025-01-01T00:00:00Z').
//   $until: datetime, end of the window, exclusive.
//   $bucket: string, 'day', 'week' (weeks start on Monday), 'month', 'quarter' or 'year'. Anything else
//            fails with a client error reading "$bucket: give day, week, month, quarter or year".
//   Window bounds: a zoned datetime is used exactly as given; one without a zone (Python's naive datetime,
//   Cypher's localdatetime) is read as UTC, a date as its midnight UTC, a text as ISO 8601 (no offset: the
//   server's zone, UTC by default). UTC here is the offset +00:00, as the stored times have it: the named
//   zone 'UTC' sorts after it at the same instant, so a bound made with it left out a memory made exactly
//   then. Anything else, null included, fails with a client error reading "$since: give a datetime, ..."
//   (the query raises it by parsing that sentence as a datetime: Cypher 5 has no other way to fail with a
//   message of its own).
// Returns: bucket (date, first day of the bucket), cube_id, cube_name, owner_id, memories (int).
//   One row per cube and bucket that has memories, ordered by bucket, then cube_id.
// Index: memory_created_at (range index on Memory.created_at) finds the window without a label scan.
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
     END AS until,
     CASE WHEN $bucket IN ['day', 'week', 'month', 'quarter', 'year'] THEN $bucket
       ELSE toString(datetime('$bucket: give day, week, month, quarter or year'))
     END AS unit
MATCH (m:Memory)
WHERE m.created_at >= since AND m.created_at < until
MATCH (owner:User)-[:OWNS]->(c:MemCube)-[:HAS_MEMORY]->(m)
WITH date.truncate(unit, m.created_at) AS bucket, c, owner, count(m) AS memories
RETURN bucket, c.id AS cube_id, c.name AS cube_name, owner.id AS owner_id, memories
ORDER BY bucket, cube_id;
