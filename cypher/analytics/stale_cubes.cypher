// Active cubes nobody has loaded for $days days: no LOADED edge with a since newer than the cutoff.
// LOADED.since is when the cube was registered for that user (at creation for the owner, on
// register_mem_cube for others); using a cube does not move it, and unregistering deletes the edge. A
// cube whose every LOADED edge is gone counts as stale with last_loaded_at null. Some graphs hold
// LOADED.since as a local datetime; it is read as UTC, so both kinds compare.
//
// Parameters:
//   $days: integer, how many days without a new load make a cube stale, e.g. 90.
// Returns: cube_id, cube_name, owner_id, memories (int), last_memory_at (datetime or null),
//   last_loaded_at (datetime in UTC, or null if nobody has it loaded), loaded_by (int, users with it
//   loaded). Ordered with never-loaded cubes first, then by last_loaded_at, then cube_id.
// Index: memory_cube_created (Memory.cube_id, Memory.created_at) gives each cube's newest memory;
//   memory counts come from the node's degree, not a scan.
MATCH (owner:User)-[:OWNS]->(c:MemCube)
WHERE c.is_active
CALL (c) {
  MATCH (:User)-[l:LOADED]->(c)
  RETURN max(datetime({datetime: l.since, timezone: 'UTC'})) AS last_loaded_at, count(l) AS loaded_by
}
WITH owner, c, last_loaded_at, loaded_by
WHERE last_loaded_at IS NULL OR last_loaded_at < datetime() - duration({days: $days})
OPTIONAL CALL (c) {
  MATCH (m:Memory)
  WHERE m.cube_id = c.id AND m.created_at IS NOT NULL
  RETURN m.created_at AS last_memory_at
  ORDER BY m.created_at DESC
  LIMIT 1
}
RETURN c.id AS cube_id, c.name AS cube_name, owner.id AS owner_id, COUNT { (c)-[:HAS_MEMORY]->() } AS memories,
       last_memory_at, last_loaded_at, loaded_by
ORDER BY last_loaded_at IS NOT NULL, last_loaded_at, cube_id;
