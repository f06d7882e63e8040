// Take one entry out of a cube's working set by its own id; the memory it holds stays.
MATCH (:MemCube {id: $cube_id})-[w:WORKING {id: $entry_id}]->(:Memory)
DELETE w
RETURN count(*) AS deleted
