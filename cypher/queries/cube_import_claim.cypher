// Import, first step for an existing cube of the caller: only an empty cube takes an import.
MATCH (c:MemCube {id: $cube_id})
WHERE NOT EXISTS { (c)-[:HAS_MEMORY]->() }
SET c.import_id = $import_id, c.import_started_at = datetime()
RETURN c.id AS id
