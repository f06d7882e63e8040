// A page of the earlier versions of each (cube_id, memory_id) pair's memory, newest first (Memory.history):
// each pair carries its cursor (below_version: the cursor's version, or the largest integer for a first page;
// after_id: the cursor's version id or null), $limit versions at most per pair (one more than the page). Read
// by (cube_id, memory_id, version) through the memory_version_history index, never by walking DERIVED_FROM
// (see memory_history.cypher). Timestamps as text. A pair whose cube does not hold the memory has no row.
UNWIND $pairs AS pair
MATCH (m:Memory {id: pair.memory_id})
WHERE m.cube_id = pair.cube_id
CALL (pair) {
  MATCH (v:MemoryVersion)
  WHERE v.cube_id = pair.cube_id AND v.memory_id = pair.memory_id AND v.version <= pair.below_version
    AND (pair.after_id IS NULL OR v.version < pair.below_version OR v.id < pair.after_id)
  WITH v
  ORDER BY v.version DESC, v.id DESC
  LIMIT $limit
  RETURN collect(v {.*, embedding: null, created_at: toString(v.created_at), updated_at: toString(v.updated_at)})
    AS versions
}
CALL (pair) {
  OPTIONAL MATCH (p:MemoryVersion)
  WHERE pair.after_id IS NOT NULL AND p.cube_id = pair.cube_id AND p.memory_id = pair.memory_id
    AND p.version >= pair.below_version AND (p.version > pair.below_version OR p.id >= pair.after_id)
  WITH p LIMIT 1
  RETURN p IS NOT NULL AS has_previous
}
RETURN pair.memory_id AS memory_id, pair.below_version AS below_version, pair.after_id AS after_id, versions,
       has_previous
