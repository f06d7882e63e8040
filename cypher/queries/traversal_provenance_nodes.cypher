// Messages and documents by (cube_id, key) and $label ('Message' or 'Document'): for Message.next/previous and
// node(id:). A message carries the keys of its NEXT neighbours. Timestamps as text.
UNWIND $pairs AS pair
MATCH (n {cube_id: pair.cube_id, key: pair.key})
WHERE ($label = 'Message' AND n:Message) OR ($label = 'Document' AND n:Document)
RETURN pair.cube_id AS cube_id, pair.key AS key,
       n {.*, created_at: toString(n.created_at), updated_at: toString(n.updated_at),
          next_key: head([(n)-[:NEXT]->(x:Message) | x.key]),
          previous_key: head([(x:Message)-[:NEXT]->(n) | x.key])} AS node
