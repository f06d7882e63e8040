// Second step of deleting a cube (auto-commit, batches of 5000 nodes): everything stored under its id:
// memories (with any a racing write left outside the cube), their versions, messages, documents and the
// BM25 vocabulary. Each lookup is an index seek on the cube id, so the work is proportional to the cube.
CALL () {
  MATCH (n:Memory) WHERE n.cube_id = $cube_id AND n.status IS NOT NULL RETURN n
  UNION ALL
  MATCH (n:MemoryVersion) WHERE n.cube_id = $cube_id RETURN n
  UNION ALL
  MATCH (n:Message) WHERE n.cube_id = $cube_id AND n.key IS NOT NULL RETURN n
  UNION ALL
  MATCH (n:Document) WHERE n.cube_id = $cube_id AND n.key IS NOT NULL RETURN n
  UNION ALL
  MATCH (n:Term) WHERE n.cube_id = $cube_id AND n.term IS NOT NULL RETURN n
}
CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 5000 ROWS
