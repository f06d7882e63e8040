// BM25 (Lucene) matches of the query within one cube. The procedure streams hits in score order and the
// cube filter runs before LIMIT, so another tenant's better matches cannot push this cube's out.
CALL db.index.fulltext.queryNodes($index_name, $lucene) YIELD node, score
WHERE node.cube_id = $cube_id AND node.status = 'activated'
WITH node, score
LIMIT $limit
RETURN node {.*, embedding: null} AS memory, score
