// Import, first step for an existing cube of the caller: only an empty cube takes an import, and only one
// the caller's cube is not already taking (another import's marker, live or not, is handled before this).
MATCH (c:MemCube {id: $cube_id})
SET c.import_lock = $import_id
REMOVE c.import_lock
WITH c
WHERE c.import_id IS NULL AND NOT EXISTS { (c)-[:HAS_MEMORY]->() }
SET c.import_id = $import_id, c.import_by = $user_id, c.import_started_at = datetime(),
    c.import_lease_until = datetime() + duration({seconds: $lease_s})
RETURN c.id AS id
