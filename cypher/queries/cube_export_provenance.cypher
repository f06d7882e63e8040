// Dump: the messages and documents a cube's memories derive from (seeks on the (cube_id, key) constraints).
CALL () {
  MATCH (n:Message) WHERE n.cube_id = $cube_id AND n.key IS NOT NULL
  RETURN 'message' AS kind, n
  UNION ALL
  MATCH (n:Document) WHERE n.cube_id = $cube_id AND n.key IS NOT NULL
  RETURN 'document' AS kind, n
}
RETURN kind, n {.*} AS node
ORDER BY kind, n.created_at, n.key
