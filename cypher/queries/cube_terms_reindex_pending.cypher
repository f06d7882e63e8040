// The cubes whose memories' BM25 postings an older analyzer wrote and the current one writes otherwise
// (graph/schema.py reindex_terms, once at start): those holding a memory whose text matches $pattern (the
// only texts the analyzers tell apart) and not yet marked re-indexed with $analyzer_version; with how far an
// interrupted re-index got (the last memory id it finished) and how many such memories each holds.
MATCH (m:Memory)
WHERE m.memory =~ $pattern
WITH m.cube_id AS cube_id, count(m) AS memories
MATCH (c:MemCube {id: cube_id})
WHERE coalesce(c.terms_analyzer, 1) < $analyzer_version
RETURN c.id AS cube_id, c.terms_reindexed_to AS after, memories
ORDER BY cube_id
