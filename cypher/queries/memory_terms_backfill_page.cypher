// Migration (data version 3): up to $limit of one cube's memories without BM25 postings, with their text.
MATCH (m:Memory {cube_id: $cube_id})
WHERE m.term_count IS NULL
RETURN m.id AS id, m.memory AS memory
LIMIT $limit
