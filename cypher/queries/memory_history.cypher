// A page of a memory's earlier versions, newest first: ordered by version, then version id (an import may
// repeat a version number), after the cursor ($below_version: the cursor's version, or the largest integer
// for the first page; $after_id: the cursor's version id, null for the first page). Versions are read by
// (cube_id, memory_id, version) through the memory_version_history index, never by walking DERIVED_FROM: the
// work is the page (plus versions sharing the cursor's number), whatever shape the version edges have.
// $limit rows at most (ask one more than the page to learn whether another follows), with whether any
// version lies at or before the cursor (hasPreviousPage). No row when the cube does not hold the memory.
MATCH (:MemCube {id: $cube_id})-[:HAS_MEMORY]->(m:Memory {id: $memory_id})
CALL (m) {
  MATCH (v:MemoryVersion)
  WHERE v.cube_id = $cube_id AND v.memory_id = $memory_id AND v.version <= $below_version
    AND ($after_id IS NULL OR v.version < $below_version OR v.id < $after_id)
  WITH v
  ORDER BY v.version DESC, v.id DESC
  LIMIT $limit
  RETURN collect(v {.*, embedding: null, created_at: toString(v.created_at), updated_at: toString(v.updated_at)})
    AS versions
}
CALL (m) {
  OPTIONAL MATCH (p:MemoryVersion)
  WHERE $after_id IS NOT NULL AND p.cube_id = $cube_id AND p.memory_id = $memory_id
    AND p.version >= $below_version AND (p.version > $below_version OR p.id >= $after_id)
  WITH p LIMIT 1
  RETURN p IS NOT NULL AS has_previous
}
RETURN versions, has_previous
