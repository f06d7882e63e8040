// Memories of the messages right before and after each given memory's messages (NEXT in either direction),
// within one cube: the conversational context of a hit; only neighbours that pass the search's $filter.
UNWIND $memory_ids AS memory_id
MATCH (m:Memory {id: memory_id})-[:DERIVED_FROM {kind: 'message'}]->(:Message)-[:NEXT]-(:Message)
      <-[:DERIVED_FROM {kind: 'message'}]-(n:Memory)
WHERE m.cube_id = $cube_id AND n.cube_id = $cube_id AND n.status = 'activated' AND n.id <> memory_id
  AND {{memory_filter n}}
RETURN memory_id, collect(DISTINCT n {.*, embedding: null, created_at: toString(n.created_at),
                                 updated_at: toString(n.updated_at)}) AS neighbours
