// Memories created per cube per day, week or month, with the cube's owner: how each cube grows.
// Counts the memories that exist now (a deleted memory leaves no node behind); an update is not a new
// memory (see memory versions in provenance_chain.cypher). Buckets follow created_at, stored in UTC.
//
// Parameters:
//   $since: datetime (zoned), start of the window, inclusive, e.g. datetime('2025-01-01T00:00:00Z').
//   $until: datetime (zoned), end of the window, exclusive. A local datetime compares as null and
//           matches nothing, so give both bounds a zone (Z for UTC).
//   $bucket: string, 'day', 'week' (weeks start on Monday) or 'month'; 'quarter' and 'year' work too.
//            Any other value fails with an error from date.truncate.
// Returns: bucket (date, first day of the bucket), cube_id, cube_name, owner_id, memories (int).
//   One row per cube and bucket that has memories, ordered by bucket, then cube_id.
// Index: memory_created_at (range index on Memory.created_at) finds the window without a label scan.
MATCH (m:Memory)
WHERE m.created_at >= $since AND m.created_at < $until
MATCH (owner:User)-[:OWNS]->(c:MemCube)-[:HAS_MEMORY]->(m)
WITH date.truncate($bucket, m.created_at) AS bucket, c, owner, count(m) AS memories
RETURN bucket, c.id AS cube_id, c.name AS cube_name, owner.id AS owner_id, memories
ORDER BY bucket, cube_id;
