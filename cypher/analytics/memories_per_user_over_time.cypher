// Memories created per owning user per day, week or month: the growth of everything a user owns.
// Memories count for the owner of their cube, not their author: a memory another user wrote into a cube
// shared for writing counts for the owner, and also in written_by_others (Memory.user_id is the author).
//
// Parameters:
//   $since: datetime (zoned), start of the window, inclusive, e.g. datetime('2025-01-01T00:00:00Z').
//   $until: datetime (zoned), end of the window, exclusive.
//   $bucket: string, 'day', 'week' (weeks start on Monday) or 'month'; 'quarter' and 'year' work too.
// Returns: bucket (date, first day of the bucket), owner_id, owner_name, cubes (int, cubes that grew),
//   memories (int), written_by_others (int). One row per owner and bucket, ordered by bucket, owner_id.
// Index: memory_created_at (range index on Memory.created_at) finds the window without a label scan.
MATCH (m:Memory)
WHERE m.created_at >= $since AND m.created_at < $until
MATCH (owner:User)-[:OWNS]->(c:MemCube)-[:HAS_MEMORY]->(m)
WITH date.truncate($bucket, m.created_at) AS bucket, owner,
     count(DISTINCT c) AS cubes, count(m) AS memories,
     count(CASE WHEN m.user_id <> owner.id THEN m END) AS written_by_others
RETURN bucket, owner.id AS owner_id, owner.name AS owner_name, cubes, memories, written_by_others
ORDER BY bucket, owner_id;
