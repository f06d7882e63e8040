// Import: the nodes of the imports this one took over from are deleted; forget their ids.
MATCH (c:MemCube {id: $cube_id})
WHERE c.import_id = $import_id
REMOVE c.import_leftovers
RETURN c.id AS id
