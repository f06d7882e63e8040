// Import: one batch of the cube's working set (MemOS's WorkingMemory nodes), each entry an edge from the cube
// to the memory holding its text, under the entry's own id. Written after every memory of the import, so each
// row finds its memory; matches the cube only while this import holds it.
MATCH (c:MemCube {id: $cube_id})
WHERE c.import_id = $import_id
UNWIND $rows AS row
MATCH (c)-[:HAS_MEMORY]->(m:Memory {id: row.memory_id})
CREATE (c)-[w:WORKING]->(m)
SET w.id = row.id, w.position = row.position, w.created_at = row.created_at, w.updated_at = row.updated_at
RETURN count(w) AS created
