// The ids of a cube's memories whose text matches $pattern (graph/schema.py reindex_terms) after $after, the
// last one an interrupted re-index finished; the caller sorts them (an ORDER BY here would sort per batch).
MATCH (:MemCube {id: $cube_id})-[:HAS_MEMORY]->(m:Memory)
WHERE m.id > $after AND m.memory =~ $pattern
RETURN m.id AS id
