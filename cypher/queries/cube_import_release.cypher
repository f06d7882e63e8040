// After discarding a failed import: a cube it created goes; a cube that had an owner before just loses the marker.
// Locks the cube before reading the marker, so a cube another import took over in the meantime is left alone.
MATCH (c:MemCube {id: $cube_id})
SET c.import_lock = $import_id
REMOVE c.import_lock
WITH c
WHERE c.import_id = $import_id
WITH c, EXISTS { ()-[:OWNS]->(c) } AS owned
// (An import only fills an empty cube, so once its memories are discarded the cube's text total is 0 again.)
FOREACH (_ IN CASE WHEN owned THEN [1] ELSE [] END |
  REMOVE c.import_id, c.import_by, c.import_started_at, c.import_lease_until, c.import_leftovers SET c.term_total = 0)
FOREACH (_ IN CASE WHEN owned THEN [] ELSE [1] END | DETACH DELETE c)
RETURN owned
