// A cube's memories all carry postings of $analyzer_version (graph/schema.py reindex_terms): the next start
// skips it.
MATCH (c:MemCube {id: $cube_id})
SET c.terms_analyzer = $analyzer_version
REMOVE c.terms_reindexed_to
RETURN c.id AS cube_id
