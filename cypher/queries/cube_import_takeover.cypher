// Import into a cube id another import left behind: allowed only once that import's lease ran out (it
// crashed, or stopped renewing; a cube marked before leases existed counts from its start time). Locks the
// cube before reading it, so of two imports that both saw the lease expired only one takes over, and an
// import whose batch just renewed its lease keeps it. The old import's id joins import_leftovers, the ids
// whose nodes the new import deletes (cube_import_discard) before it writes. A cube with an owner takes
// the new import only if it holds no memories but the old import's.
MATCH (c:MemCube {id: $cube_id})
SET c.import_lock = $import_id
REMOVE c.import_lock
WITH c
WHERE c.import_id = $stale_import_id
  AND coalesce(c.import_lease_until, c.import_started_at + duration({seconds: $lease_s}),
               datetime({epochSeconds: 0})) <= datetime()
WITH c, EXISTS { ()-[:OWNS]->(c) } AS owned
WHERE NOT owned
   OR NOT EXISTS { (c)-[:HAS_MEMORY]->(m) WHERE m.import_id IS NULL OR m.import_id <> $stale_import_id }
SET c.import_id = $import_id, c.import_by = $user_id, c.import_started_at = datetime(),
    c.import_lease_until = datetime() + duration({seconds: $lease_s}),
    c.import_leftovers = coalesce(c.import_leftovers, []) + [$stale_import_id],
    c.term_total = 0
// A cube the old import created gets this import's name, path and model, as cube_import_begin sets them.
FOREACH (_ IN CASE WHEN owned THEN [] ELSE [1] END | SET c += $properties, c.created_at = datetime())
RETURN c.id AS id, c.import_leftovers AS leftovers
