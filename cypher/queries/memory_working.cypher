// A cube's working set (MemOS's WorkingMemory nodes, kept as (:MemCube)-[:WORKING]->(:Memory) edges) in its
// order: each entry as the memory it holds, under the entry's own id and times and with memory_type
// WorkingMemory, passing $filter as that entry. The cube is found by its id and only its own edges are read.
MATCH (:MemCube {id: $cube_id})-[w:WORKING]->(m:Memory)
WITH w, m {.*, id: w.id, memory_type: 'WorkingMemory', created_at: w.created_at, updated_at: w.updated_at,
           embedding: CASE WHEN $include_embedding THEN m.embedding END} AS entry
WHERE {{memory_filter entry}}
RETURN entry AS memory
ORDER BY w.position, w.id
