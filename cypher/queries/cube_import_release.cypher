// After discarding a failed import: a cube it created goes; a cube that had an owner before just loses the marker.
MATCH (c:MemCube {id: $cube_id})
WHERE c.import_id = $import_id
WITH c, EXISTS { ()-[:OWNS]->(c) } AS owned
FOREACH (_ IN CASE WHEN owned THEN [1] ELSE [] END | REMOVE c.import_id, c.import_started_at)
FOREACH (_ IN CASE WHEN owned THEN [] ELSE [1] END | DETACH DELETE c)
RETURN owned
