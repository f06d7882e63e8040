// Import, first step for a new cube id: the cube without an owner, so nobody sees it until the import ends.
// The import holds it for a lease ($lease_s seconds), renewed by each batch (cube_import_hold).
CREATE (c:MemCube {id: $cube_id})
SET c += $properties, c.created_at = datetime(), c.is_active = true,
    c.import_id = $import_id, c.import_by = $user_id, c.import_started_at = datetime(),
    c.import_lease_until = datetime() + duration({seconds: $lease_s})
RETURN c.id AS id
