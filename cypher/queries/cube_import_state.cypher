// Import: what a cube id names already: its owner, a running (or crashed) import, whether it holds memories.
MATCH (c:MemCube {id: $cube_id})
OPTIONAL MATCH (owner:User)-[:OWNS]->(c)
RETURN owner.id AS owner_id, c.import_id AS import_id, EXISTS { (c)-[:HAS_MEMORY]->() } AS has_memories
