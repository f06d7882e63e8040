// Import, first step for a new cube id: the cube without an owner, so nobody sees it until the import ends.
CREATE (c:MemCube {id: $cube_id})
SET c += $properties, c.created_at = datetime(), c.is_active = true,
    c.import_id = $import_id, c.import_started_at = datetime()
RETURN c.id AS id
