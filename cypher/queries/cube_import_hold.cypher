// Import: the first statement of each of its transactions. Locks the cube (the SET) before reading the marker,
// so a take-over (cube_import_takeover) cannot slip in between, checks this import still holds the cube, and
// renews its lease. No row: the cube was taken over after this import's lease ran out, or is gone.
MATCH (c:MemCube {id: $cube_id})
SET c.import_lock = $import_id
REMOVE c.import_lock
WITH c
WHERE c.import_id = $import_id
SET c.import_lease_until = datetime() + duration({seconds: $lease_s})
RETURN c.id AS id
