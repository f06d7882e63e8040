// How big each cube is and where its memories come from: memories by source ('conversation', 'file',
// 'system', ...), plus the provenance and history nodes they carry. Largest cubes first.
//
// Parameters:
//   $owner_id: string or null, only cubes this user owns; null for every cube.
//   $limit: integer, most cubes returned.
// Returns: cube_id, cube_name, owner_id, is_active (bool), memories (int), by_source (list of
//   {source, memories}, largest first; 'unknown' where a memory has no source), versions (int, archived
//   MemoryVersion nodes), messages (int), documents (int), shared_with (int, users it is shared with).
//   Ordered by memories descending, then cube_id.
// Index: message_key_unique and document_key_unique (composite on cube_id, key) count a cube's
//   messages and documents, memory_version_cube its versions (never a walk of the version edges, whose
//   paths multiply where an imported history branches); the rest walks the cube's own edges.
MATCH (owner:User)-[:OWNS]->(c:MemCube)
WHERE $owner_id IS NULL OR owner.id = $owner_id
CALL (c) {
  MATCH (c)-[:HAS_MEMORY]->(m:Memory)
  WITH coalesce(m.source, 'unknown') AS source, count(m) AS memories
  ORDER BY memories DESC, source
  RETURN collect({source: source, memories: memories}) AS by_source, sum(memories) AS memories
}
RETURN c.id AS cube_id, c.name AS cube_name, owner.id AS owner_id, c.is_active AS is_active, memories,
       by_source,
       COUNT { MATCH (v:MemoryVersion) WHERE v.cube_id = c.id } AS versions,
       COUNT { MATCH (msg:Message) WHERE msg.cube_id = c.id AND msg.key IS NOT NULL } AS messages,
       COUNT { MATCH (doc:Document) WHERE doc.cube_id = c.id AND doc.key IS NOT NULL } AS documents,
       COUNT { (c)-[:SHARED_WITH]->(:User) } AS shared_with
ORDER BY memories DESC, cube_id
LIMIT $limit;
