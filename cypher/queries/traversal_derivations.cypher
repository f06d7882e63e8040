// What each (cube_id, memory_id) pair's memory derives from, in its own cube only: messages, documents and
// its previous version, each with the edge's kind (Memory.derivedFrom). A message carries the keys of its
// NEXT neighbours. Timestamps as text.
UNWIND $pairs AS pair
MATCH (m:Memory {id: pair.memory_id})
WHERE m.cube_id = pair.cube_id
MATCH (m)-[d:DERIVED_FROM]->(n)
WHERE n.cube_id = pair.cube_id AND (n:Message OR n:Document OR n:MemoryVersion)
WITH pair, d, n
ORDER BY d.kind, coalesce(n.created_at, datetime({epochMillis: 0})), coalesce(n.key, n.id)
RETURN pair.memory_id AS memory_id,
       collect({kind: d.kind, label: CASE WHEN n:Message THEN 'Message' WHEN n:Document THEN 'Document'
                                          ELSE 'MemoryVersion' END,
                node: n {.*, embedding: null, created_at: toString(n.created_at), updated_at: toString(n.updated_at),
                         next_key: head([(n)-[:NEXT]->(x:Message) | x.key]),
                         previous_key: head([(x:Message)-[:NEXT]->(n) | x.key])}}) AS sources
