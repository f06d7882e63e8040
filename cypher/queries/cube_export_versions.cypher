// Dump: the earlier versions of a cube's memories (index-backed by memory_version_cube).
MATCH (v:MemoryVersion)
WHERE v.cube_id = $cube_id
RETURN v {.*} AS node
ORDER BY v.memory_id, v.version
