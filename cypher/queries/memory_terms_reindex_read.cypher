// The texts of a batch of a cube's memories to re-index (graph/schema.py reindex_terms), read in the batch's
// write transaction.
UNWIND $ids AS id
MATCH (m:Memory {id: id})
WHERE m.cube_id = $cube_id
RETURN m.id AS id, m.memory AS memory
