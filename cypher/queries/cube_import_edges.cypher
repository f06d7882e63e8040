// Import: one batch of edges, by kind; each count is checked against what was sent (a missing end is a bug).
MATCH (c:MemCube {id: $cube_id})
WHERE c.import_id = $import_id
CALL (c) {
  UNWIND $memory_message AS e
  MATCH (m:Memory {id: e.source}), (t:Message {cube_id: $cube_id, key: e.target})
  MERGE (m)-[:DERIVED_FROM {kind: 'message'}]->(t)
  RETURN count(*) AS memory_message
}
CALL (c) {
  UNWIND $memory_document AS e
  MATCH (m:Memory {id: e.source}), (t:Document {cube_id: $cube_id, key: e.target})
  MERGE (m)-[:DERIVED_FROM {kind: 'document'}]->(t)
  RETURN count(*) AS memory_document
}
CALL (c) {
  UNWIND $memory_version AS e
  MATCH (m:Memory {id: e.source}), (t:MemoryVersion {id: e.target})
  MERGE (m)-[r:DERIVED_FROM {kind: 'update'}]->(t)
  SET r.at = e.at
  RETURN count(*) AS memory_version
}
CALL (c) {
  UNWIND $version_version AS e
  MATCH (v:MemoryVersion {id: e.source}), (t:MemoryVersion {id: e.target})
  MERGE (v)-[r:DERIVED_FROM {kind: 'update'}]->(t)
  SET r.at = e.at
  RETURN count(*) AS version_version
}
CALL (c) {
  UNWIND $message_next AS e
  MATCH (a:Message {cube_id: $cube_id, key: e.source}), (b:Message {cube_id: $cube_id, key: e.target})
  MERGE (a)-[:NEXT]->(b)
  RETURN count(*) AS message_next
}
CALL (c) {
  UNWIND $related AS e
  MATCH (a:Memory {id: e.source}), (b:Memory {id: e.target})
  MERGE (a)-[r:RELATED_TO {type: e.type}]->(b)
  RETURN count(*) AS related
}
RETURN memory_message, memory_document, memory_version, version_version, message_next, related
