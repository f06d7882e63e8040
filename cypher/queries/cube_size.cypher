// Memories in one cube (a degree lookup) and in the whole graph (the count store): both O(1).
MATCH (c:MemCube {id: $cube_id})
WITH COUNT { (c)-[:HAS_MEMORY]->() } AS cube_memories
MATCH (m:Memory)
RETURN cube_memories, count(m) AS total_memories
