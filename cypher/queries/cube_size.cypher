// Memories in one cube (a degree lookup) and in the whole graph (the count store): both O(1).
// (COUNT { (:Memory) } reads the count store; a MATCH (m:Memory) after a WITH scanned every memory.)
MATCH (c:MemCube {id: $cube_id})
RETURN COUNT { (c)-[:HAS_MEMORY]->() } AS cube_memories, COUNT { (:Memory) } AS total_memories
