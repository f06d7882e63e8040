// Import: one batch of :Message and :Document nodes, one per (cube_id, key); ones the cube has are kept.
MATCH (c:MemCube {id: $cube_id})
WHERE c.import_id = $import_id
CALL (c) {
  UNWIND $messages AS row
  MERGE (n:Message {cube_id: $cube_id, key: row.key})
  ON CREATE SET n += row, n.import_id = $import_id
  RETURN count(n) AS messages
}
CALL (c) {
  UNWIND $documents AS row
  MERGE (n:Document {cube_id: $cube_id, key: row.key})
  ON CREATE SET n += row, n.import_id = $import_id
  RETURN count(n) AS documents
}
RETURN messages, documents
