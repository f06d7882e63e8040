// BM25 (Lucene) matches of the query within one cube. The Lucene query itself is restricted to the cube's
// cube_key, so its top $limit are this cube's best; the cube_id check below is the authoritative filter.
// `fetched` tells the caller whether Lucene had more to give (fetched = $limit) or was exhausted.
CALL db.index.fulltext.queryNodes($index_name, $lucene, {limit: $limit}) YIELD node, score
WITH collect({node: node, score: score}) AS hits
CALL (hits) {
  UNWIND hits AS hit
  WITH hit.node AS node, hit.score AS score
  WHERE node.cube_id = $cube_id AND node.status = 'activated'
  RETURN collect({memory: node {.*, embedding: null}, score: score})[..$keep] AS found
}
RETURN size(hits) AS fetched, found
