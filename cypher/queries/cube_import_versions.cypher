// Import: one batch of earlier memory versions (linked to their memories by cube_import_edges).
MATCH (c:MemCube {id: $cube_id})
WHERE c.import_id = $import_id
UNWIND $rows AS row
CREATE (v:MemoryVersion)
SET v = row, v.import_id = $import_id
RETURN count(v) AS created
