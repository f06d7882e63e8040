// Memories created per owning user per day, week or month: the growth of everything a user owns.
// Memories count for the owner of their cube, not their author: a memory another user wrote into a cube
// shared for writing counts for the owner, and also in written_by_others (Memory.user_id is the author).
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
// Returns: bucket (date, first day of the bucket), owner_id, owner_name, cubes (int, cubes that grew),
//   memories (int), written_by_others (int). One row per owner and bucket, ordered by bucket, owner_id.
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
WITH date.truncate(unit, m.created_at) AS bucket, owner,
     count(DISTINCT c) AS cubes, count(m) AS memories,
     count(CASE WHEN m.user_id <> owner.id THEN m END) AS written_by_others
RETURN bucket, owner.id AS owner_id, owner.name AS owner_name, cubes, memories, written_by_others
ORDER BY bucket, owner_id;
