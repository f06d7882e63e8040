// Import failed (or crashed earlier): delete what that import wrote, in batches (run in auto-commit).
// The IS NOT NULL terms let the composite indexes (cube_id first) serve the cube_id predicate.
CALL () {
  MATCH (n:Memory) WHERE n.cube_id = $cube_id AND n.created_at IS NOT NULL AND n.import_id = $import_id RETURN n
  UNION ALL
  MATCH (n:MemoryVersion) WHERE n.cube_id = $cube_id AND n.import_id = $import_id RETURN n
  UNION ALL
  MATCH (n:Message) WHERE n.cube_id = $cube_id AND n.key IS NOT NULL AND n.import_id = $import_id RETURN n
  UNION ALL
  MATCH (n:Document) WHERE n.cube_id = $cube_id AND n.key IS NOT NULL AND n.import_id = $import_id RETURN n
}
CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 5000 ROWS
